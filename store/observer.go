package store

import "time"

// Store operations reported to an Observer.
const (
	OpKVGet           = "kv_get"
	OpKVSet           = "kv_set"
	OpKVDelete        = "kv_delete"
	OpKVScan          = "kv_scan"
	OpKVCompareAndSet = "kv_cas"
	// OpFlush is one batch of session and packet writes written to Badger.
	OpFlush = "flush"
	// OpRestoreSession is one recovery of a session with its missed packets.
	OpRestoreSession = "restore_session"
	// OpGC is one value-log garbage collection run.
	OpGC = "gc"
)

// Observer receives the store's operations for metrics: the op (one of
// the Op* constants), its duration and its error (nil on success). It must
// be cheap and safe for concurrent use.
type Observer interface {
	Op(op string, d time.Duration, err error)
}

// ObservedKV returns kv reporting every operation to obs; with a nil obs
// it returns kv itself. DB.KV applies it with Options.Observer.
func ObservedKV(kv KV, obs Observer) KV {
	if obs == nil {
		return kv
	}
	return observedKV{kv, obs}
}

type observedKV struct {
	kv  KV
	obs Observer
}

func (o observedKV) Get(plugin, key string) ([]byte, bool, error) {
	start := time.Now()
	v, found, err := o.kv.Get(plugin, key)
	o.obs.Op(OpKVGet, time.Since(start), err)
	return v, found, err
}

func (o observedKV) Set(plugin, key string, value []byte, ttl time.Duration) error {
	start := time.Now()
	err := o.kv.Set(plugin, key, value, ttl)
	o.obs.Op(OpKVSet, time.Since(start), err)
	return err
}

func (o observedKV) Delete(plugin, key string) error {
	start := time.Now()
	err := o.kv.Delete(plugin, key)
	o.obs.Op(OpKVDelete, time.Since(start), err)
	return err
}

func (o observedKV) Scan(plugin, prefix string, limit int) ([]Pair, error) {
	start := time.Now()
	pairs, err := o.kv.Scan(plugin, prefix, limit)
	o.obs.Op(OpKVScan, time.Since(start), err)
	return pairs, err
}

func (o observedKV) CompareAndSet(plugin, key string, old, value []byte, ttl time.Duration) (bool, error) {
	start := time.Now()
	swapped, err := o.kv.CompareAndSet(plugin, key, old, value, ttl)
	o.obs.Op(OpKVCompareAndSet, time.Since(start), err)
	return swapped, err
}

// observe reports an operation of the DB that started at start.
func (d *DB) observe(op string, start time.Time, err error) {
	if obs := d.opts.Observer; obs != nil {
		obs.Op(op, time.Since(start), err)
	}
}
