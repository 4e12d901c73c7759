package store

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	badger "github.com/dgraph-io/badger/v4"
)

func readRaw(db *DB, key string) ([]byte, bool, error) {
	var v []byte
	err := db.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get([]byte(key))
		if err != nil {
			return err
		}
		v, err = item.ValueCopy(nil)
		return err
	})
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, false, nil
	}
	return v, err == nil, err
}

func countPrefix(t *testing.T, db *DB, prefix string) int {
	t.Helper()
	n := 0
	must(t, db.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(prefix)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			n++
		}
		return nil
	}))
	return n
}

func TestSecondOpenFailsWithClearMessage(t *testing.T) {
	dir := t.TempDir()
	db := openTest(t, dir, Options{})
	_, err := Open(dir, Options{Logger: quietLog})
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "another process") {
		t.Fatalf("second open: %v", err)
	}
	must(t, db.Close())
	db2, err := Open(dir, Options{Logger: quietLog})
	if err != nil {
		t.Fatalf("open after close: %v", err)
	}
	must(t, db2.Close())
}

func TestCorruptDirIsAnError(t *testing.T) {
	cases := []struct {
		name    string
		corrupt func(t *testing.T, dir string)
	}{
		{"garbage MANIFEST", func(t *testing.T, dir string) {
			must(t, os.WriteFile(filepath.Join(dir, "MANIFEST"), []byte("this is not a manifest at all"), 0o644))
		}},
		{"truncated MANIFEST", func(t *testing.T, dir string) {
			must(t, os.Truncate(filepath.Join(dir, "MANIFEST"), 3))
		}},
		{"data dir is a file", func(t *testing.T, dir string) {
			must(t, os.RemoveAll(dir))
			must(t, os.WriteFile(dir, []byte("x"), 0o644))
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			db, err := Open(dir, Options{Logger: quietLog})
			must(t, err)
			must(t, db.KV().Set("p", "k", []byte("v"), 0))
			must(t, db.Close())
			tc.corrupt(t, dir)
			db, err = Open(dir, Options{Logger: quietLog})
			if err == nil {
				_ = db.Close()
				t.Fatal("opened a corrupt directory")
			}
			if !strings.Contains(err.Error(), dir) {
				t.Fatalf("error does not name the directory: %v", err)
			}
		})
	}
}

func TestCloseIsIdempotent(t *testing.T) {
	db, err := Open(t.TempDir(), Options{Logger: quietLog})
	must(t, err)
	must(t, db.Close())
	must(t, db.Close())
}
