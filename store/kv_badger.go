package store

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

// badgerKV is the KV of a DB: keys kv/<plugin>/<key>, written at once (not
// batched: a plugin waits for its write) in Badger transactions.
type badgerKV struct{ d *DB }

// KV returns the plugins' key-value data in this database.
// Its operations are reported to Options.Observer.
func (d *DB) KV() KV { return ObservedKV(badgerKV{d}, d.opts.Observer) }

func kvKey(plugin, key string) []byte { return []byte("kv/" + plugin + "/" + key) }

func kvEntry(k, v []byte, ttl time.Duration) *badger.Entry {
	e := badger.NewEntry(k, bytes.Clone(v))
	if ttl > 0 {
		e = e.WithTTL(max(ttl, time.Second)) // Badger expires by the second
	}
	return e
}

func (kv badgerKV) Get(plugin, key string) ([]byte, bool, error) {
	if err := checkKey(plugin, key); err != nil {
		return nil, false, err
	}
	var v []byte
	err := kv.d.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(kvKey(plugin, key))
		if err != nil {
			return err
		}
		v, err = item.ValueCopy(nil)
		return err
	})
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("kv get: %w", err)
	}
	return v, true, nil
}

func (kv badgerKV) Set(plugin, key string, value []byte, ttl time.Duration) error {
	if err := checkKey(plugin, key); err != nil {
		return err
	}
	if err := checkValue(value); err != nil {
		return err
	}
	err := kv.d.db.Update(func(txn *badger.Txn) error {
		return txn.SetEntry(kvEntry(kvKey(plugin, key), value, ttl))
	})
	if err != nil {
		return fmt.Errorf("kv set: %w", err)
	}
	return nil
}

func (kv badgerKV) Delete(plugin, key string) error {
	if err := checkKey(plugin, key); err != nil {
		return err
	}
	if err := kv.d.db.Update(func(txn *badger.Txn) error { return txn.Delete(kvKey(plugin, key)) }); err != nil {
		return fmt.Errorf("kv delete: %w", err)
	}
	return nil
}

func (kv badgerKV) Scan(plugin, prefix string, limit int) ([]Pair, error) {
	if err := checkScan(plugin, prefix); err != nil {
		return nil, err
	}
	limit = scanLimit(limit)
	out := []Pair{}
	if limit == 0 {
		return out, nil
	}
	scope := len("kv/" + plugin + "/")
	err := kv.d.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: kvKey(plugin, prefix), PrefetchValues: true, PrefetchSize: min(limit, 100)})
		defer it.Close()
		for it.Rewind(); it.Valid() && len(out) < limit; it.Next() {
			item := it.Item()
			v, err := item.ValueCopy(nil)
			if err != nil {
				return err
			}
			out = append(out, Pair{Key: string(item.Key()[scope:]), Value: v})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("kv scan: %w", err)
	}
	return out, nil
}

func (kv badgerKV) CompareAndSet(plugin, key string, old, value []byte, ttl time.Duration) (bool, error) {
	if err := checkKey(plugin, key); err != nil {
		return false, err
	}
	if err := checkValue(value); err != nil {
		return false, err
	}
	k := kvKey(plugin, key)
	for attempt := 0; ; attempt++ {
		swapped := false
		err := kv.d.db.Update(func(txn *badger.Txn) error {
			item, err := txn.Get(k)
			switch {
			case errors.Is(err, badger.ErrKeyNotFound):
				if old != nil {
					return nil
				}
			case err != nil:
				return err
			default:
				if old == nil {
					return nil
				}
				cur, err := item.ValueCopy(nil)
				if err != nil {
					return err
				}
				if !bytes.Equal(cur, old) {
					return nil
				}
			}
			swapped = true
			return txn.SetEntry(kvEntry(k, value, ttl))
		})
		if errors.Is(err, badger.ErrConflict) && attempt < 100 {
			continue // another writer committed the key meanwhile: read it again
		}
		if err != nil {
			return false, fmt.Errorf("kv compare-and-set: %w", err)
		}
		return swapped, nil
	}
}
