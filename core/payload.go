package core

import (
	"encoding/json"
	"fmt"

	"github.com/edged-io/edged/core/parser"
)

// Payload is a list of arguments as they travel on the wire: a JSON array
// (with binary placeholders) and the binary attachments it refers to. Args
// decodes it for Go code; plugins pass Data through unchanged.
type Payload struct {
	// Data is the JSON array of arguments.
	Data json.RawMessage
	// Attachments are the binary arguments referenced by placeholders in Data.
	Attachments [][]byte
}

// Args decodes the arguments: numbers as float64, objects as map[string]any,
// arrays as []any and binary values as []byte.
func (p Payload) Args() ([]any, error) {
	if len(p.Data) == 0 {
		return nil, nil
	}
	args, err := parser.UnmarshalArgs(p.Data, p.Attachments)
	if err != nil {
		return nil, fmt.Errorf("decode arguments: %w", err)
	}
	return args, nil
}

// Bind decodes the arguments into the given pointers, position by position,
// with encoding/json rules. Missing arguments leave their target unchanged;
// binary arguments bind to *[]byte.
func (p Payload) Bind(targets ...any) error {
	if len(p.Data) == 0 {
		return nil
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(p.Data, &raw); err != nil {
		return fmt.Errorf("decode arguments: %w", err)
	}
	for i, t := range targets {
		if i >= len(raw) || t == nil {
			continue
		}
		if len(p.Attachments) > 0 {
			if b, ok := t.(*[]byte); ok {
				v, err := parser.UnmarshalArgs(append(append([]byte{'['}, raw[i]...), ']'), p.Attachments)
				if err != nil {
					return fmt.Errorf("decode argument %d: %w", i, err)
				}
				if bin, ok := v[0].([]byte); ok {
					*b = bin
					continue
				}
			}
		}
		if err := json.Unmarshal(raw[i], t); err != nil {
			return fmt.Errorf("decode argument %d: %w", i, err)
		}
	}
	return nil
}

// Len returns the number of arguments.
func (p Payload) Len() int {
	if len(p.Data) == 0 {
		return 0
	}
	var raw []json.RawMessage
	if json.Unmarshal(p.Data, &raw) != nil {
		return 0
	}
	return len(raw)
}

// NewPayload encodes Go values into a Payload; []byte values (at any depth)
// become binary attachments.
func NewPayload(args ...any) (Payload, error) {
	data, att, err := parser.MarshalArgs(args)
	if err != nil {
		return Payload{}, fmt.Errorf("encode arguments: %w", err)
	}
	return Payload{Data: data, Attachments: att}, nil
}
