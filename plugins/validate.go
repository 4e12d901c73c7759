package plugins

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/edged-io/edged/plugins/abi"
)

const wasiModule = "wasi_snapshot_preview1"

var (
	i32 = api.ValueTypeI32

	// hostSignatures are the host functions of abi.ModuleName: params, results.
	hostSignatures = map[string][2][]api.ValueType{
		abi.FuncInputRead:      {{i32, i32}, {i32}},
		abi.FuncAttachmentRead: {{i32, i32, i32}, {i32}},
		abi.FuncAttach:         {{i32, i32}, {i32}},
		abi.FuncCall:           {{i32, i32, i32}, {i32}},
		abi.FuncResultRead:     {{i32, i32}, {i32}},
		abi.FuncLog:            {{i32, i32, i32}, nil},
	}

	// exportSignatures are the functions a guest exports.
	exportSignatures = []struct {
		name     string
		params   []api.ValueType
		results  []api.ValueType
		optional bool
	}{
		{abi.ExportMarker, nil, nil, false},
		{abi.ExportInit, []api.ValueType{i32}, []api.ValueType{i32}, false},
		{abi.ExportOn, []api.ValueType{i32, i32}, []api.ValueType{i32}, false},
		{abi.ExportInitialize, nil, nil, true},
	}
)

// signature formats a function type as docs/ABI.md does: "(i32, i32) -> i32".
func signature(params, results []api.ValueType) string {
	names := func(ts []api.ValueType) []string {
		out := make([]string, len(ts))
		for i, t := range ts {
			out[i] = api.ValueTypeName(t)
		}
		return out
	}
	res := "()"
	switch len(results) {
	case 0:
	case 1:
		res = api.ValueTypeName(results[0])
	default:
		res = "(" + strings.Join(names(results), ", ") + ")"
	}
	return "(" + strings.Join(names(params), ", ") + ") -> " + res
}

func sameTypes(a, b []api.ValueType) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// otherABI returns N when s is prefix+N with N a version other than ours.
func otherABI(s, prefix string) (int, bool) {
	rest, ok := strings.CutPrefix(s, prefix)
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	if err != nil || n == abi.Version {
		return 0, false
	}
	return n, true
}

// validate checks the imports and exports of a compiled module against
// docs/ABI.md §2, with the exact messages listed there.
// An instrumented module (instrumented) also imports the host's yield
// function, which is not available to plugins themselves.
func validate(name string, cm wazero.CompiledModule, instrumented bool) error {
	exports := cm.ExportedFunctions()
	imports := cm.ImportedFunctions()
	// the ABI version first: a module for another version fails on that alone
	for export := range exports {
		if n, ok := otherABI(export, "edged_abi_v"); ok {
			return fmt.Errorf("plugin %s: speaks ABI edged_v%d, this host speaks %s", name, n, abi.ModuleName)
		}
	}
	for _, f := range imports {
		mod, _, _ := f.Import()
		if n, ok := otherABI(mod, "edged_v"); ok {
			return fmt.Errorf("plugin %s: speaks ABI edged_v%d, this host speaks %s", name, n, abi.ModuleName)
		}
	}
	if _, ok := exports[abi.ExportMarker]; !ok {
		return fmt.Errorf("plugin %s: missing export %q (not an edged plugin, or built for another ABI version)", name, abi.ExportMarker)
	}
	for _, want := range exportSignatures {
		def, ok := exports[want.name]
		if !ok {
			if want.optional {
				continue
			}
			return fmt.Errorf("plugin %s: missing export %q", name, want.name)
		}
		if !sameTypes(def.ParamTypes(), want.params) || !sameTypes(def.ResultTypes(), want.results) {
			return fmt.Errorf("plugin %s: export %q has signature %s, want %s", name, want.name,
				signature(def.ParamTypes(), def.ResultTypes()), signature(want.params, want.results))
		}
	}
	if _, ok := cm.ExportedMemories()[abi.ExportMemory]; !ok {
		return fmt.Errorf("plugin %s: missing export %q", name, abi.ExportMemory)
	}
	for _, f := range imports {
		mod, fn, _ := f.Import()
		switch mod {
		case abi.ModuleName:
			sig, ok := hostSignatures[fn]
			if !ok {
				return fmt.Errorf("plugin %s: imports unknown function %s.%s", name, abi.ModuleName, fn)
			}
			if !sameTypes(f.ParamTypes(), sig[0]) || !sameTypes(f.ResultTypes(), sig[1]) {
				return fmt.Errorf("plugin %s: imports function %s.%s has signature %s, want %s", name, abi.ModuleName, fn,
					signature(f.ParamTypes(), f.ResultTypes()), signature(sig[0], sig[1]))
			}
		case wasiModule:
			// checked by wazero when the instance links
		case yieldModule:
			if !instrumented || fn != yieldName {
				return fmt.Errorf("plugin %s: imports module %q, which is not available", name, mod)
			}
		default:
			return fmt.Errorf("plugin %s: imports module %q, which is not available", name, mod)
		}
	}
	for _, m := range cm.ImportedMemories() {
		mod, _, _ := m.Import()
		if mod != wasiModule {
			return fmt.Errorf("plugin %s: imports module %q, which is not available", name, mod)
		}
	}
	return nil
}
