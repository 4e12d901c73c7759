package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

// Options configure a DB. The zero value gives the defaults.
type Options struct {
	// FlushInterval is how often pending writes (session snapshots, recovery
	// packets) are written to Badger (default 50ms). It is the durability
	// window: a crash loses at most the writes of the last interval.
	FlushInterval time.Duration
	// GCInterval is how often value-log garbage collection runs (default 5m).
	GCInterval time.Duration
	// GCDiscardRatio is the share of stale data that makes a value-log file
	// worth rewriting (default 0.5).
	GCDiscardRatio float64
	// MaxPending bounds the writes waiting for a flush (default 1<<20); past
	// it, while the disk refuses writes, the newest are dropped and logged.
	MaxPending int
	// Logger receives the store's log, Badger's warnings and errors included
	// (default: slog.Default()).
	Logger *slog.Logger
	// Observer, when non-nil, receives every key-value operation, flush,
	// session restore and value-log GC run, for metrics.
	Observer Observer
}

func (o *Options) setDefaults() {
	if o.FlushInterval <= 0 {
		o.FlushInterval = 50 * time.Millisecond
	}
	if o.GCInterval <= 0 {
		o.GCInterval = 5 * time.Minute
	}
	if o.GCDiscardRatio <= 0 || o.GCDiscardRatio >= 1 {
		o.GCDiscardRatio = 0.5
	}
	if o.MaxPending <= 0 {
		o.MaxPending = 1 << 20
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// DB is edged's data directory: a Badger database holding the recovery
// sessions and packets and the plugins' key-value data. Its methods are safe
// for concurrent use.
type DB struct {
	opts     Options
	log      *slog.Logger
	dir      string
	db       *badger.DB
	lock     *dirLock
	openedAt time.Time
	now      func() time.Time // the clock; replaced in tests

	// seq is the last sequence number given to a recovery packet; it starts
	// above both the clock (in ns) and the last one written, so offsets stay
	// unique and ordered across restarts.
	seq        atomic.Uint64
	flushedSeq uint64 // guarded by flushMu

	mu      sync.Mutex
	pending map[string]pendingEntry
	dropped int // writes dropped since the last log line, guarded by mu

	flushMu  sync.Mutex // one flush at a time, so batches land in order
	degraded atomic.Bool
	lastErr  time.Time // last write error logged, guarded by flushMu
	// write applies a batch; replaced in tests to simulate a full disk.
	write func(map[string]pendingEntry) error

	recMu    sync.Mutex
	recovery *recoveryStore

	stop      chan struct{}
	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

// pendingEntry is a write waiting for the next flush: a value (given as
// bytes or as a record encoded to JSON at flush time) or a deletion.
type pendingEntry struct {
	value     []byte
	record    any
	expiresAt uint64 // Unix seconds; 0 = never
	delete    bool
}

var seqKey = []byte("m/seq")

// Open opens (creating it if needed) the data directory dir, takes its
// exclusive lock and starts the background flush and value-log GC.
func Open(dir string, opts Options) (*DB, error) {
	opts.setDefaults()
	if dir == "" {
		return nil, errors.New("store: empty data directory")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create data directory %s: %w", dir, err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	bdb, err := openBadger(dir, opts.Logger)
	if err != nil {
		lock.release()
		return nil, err
	}
	d := &DB{
		opts:     opts,
		log:      opts.Logger,
		dir:      dir,
		db:       bdb,
		lock:     lock,
		openedAt: time.Now(),
		now:      time.Now,
		pending:  make(map[string]pendingEntry),
		stop:     make(chan struct{}),
	}
	d.write = d.writeBatch
	if err := d.loadSeq(); err != nil {
		_ = bdb.Close()
		lock.release()
		return nil, fmt.Errorf("data directory %s: read sequence: %w", dir, err)
	}
	d.wg.Add(2)
	go d.flushLoop()
	go d.maintenanceLoop()
	d.log.Info("data directory open", "dir", dir, "flush_interval", opts.FlushInterval, "gc_interval", opts.GCInterval)
	return d, nil
}

// openBadger opens Badger with options sized for an edge server, turning a
// panic on a corrupt directory into an error.
func openBadger(dir string, log *slog.Logger) (db *badger.DB, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("open data directory %s: it looks corrupt (%v); move it away or restore a backup", dir, v)
		}
	}()
	bo := badger.DefaultOptions(dir).
		WithLogger(badgerLogger{log}).
		WithMemTableSize(16 << 20).
		WithNumMemtables(3).
		WithValueLogFileSize(64 << 20).
		WithBlockCacheSize(32 << 20).
		WithIndexCacheSize(16 << 20).
		WithNumCompactors(2).
		WithSyncWrites(false)
	db, err = badger.Open(bo)
	if err != nil {
		return nil, fmt.Errorf("open data directory %s: %w (if it is corrupt, move it away or restore a backup)", dir, err)
	}
	return db, nil
}

func (d *DB) loadSeq() error {
	var last uint64
	err := d.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(seqKey)
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return item.Value(func(v []byte) error {
			if len(v) == 8 {
				last = binary.BigEndian.Uint64(v)
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	seed := uint64(time.Now().UnixNano())
	if last >= seed {
		seed = last + 1
	}
	d.seq.Store(seed)
	d.flushedSeq = last
	return nil
}

// Dir returns the data directory.
func (d *DB) Dir() string { return d.dir }

// Degraded reports whether the last flush failed (the disk refused writes).
func (d *DB) Degraded() bool { return d.degraded.Load() }

// put queues a write for the next flush; it never waits on the disk.
func (d *DB) put(key string, e pendingEntry) {
	d.mu.Lock()
	if _, ok := d.pending[key]; !ok && len(d.pending) >= d.opts.MaxPending {
		d.dropped++
		d.mu.Unlock()
		return
	}
	d.pending[key] = e
	d.mu.Unlock()
}

// Flush writes the pending writes to Badger now.
func (d *DB) Flush() error {
	d.flushMu.Lock()
	defer d.flushMu.Unlock()
	return d.flushLocked()
}

func (d *DB) flushLocked() error {
	d.mu.Lock()
	batch := d.pending
	dropped := d.dropped
	d.dropped = 0
	if len(batch) > 0 {
		d.pending = make(map[string]pendingEntry, len(batch))
	}
	d.mu.Unlock()
	if dropped > 0 {
		d.log.Error("store: pending writes dropped (the disk refuses writes and the batch is full)", "dir", d.dir, "count", dropped)
	}
	if seq := d.seq.Load(); seq != d.flushedSeq {
		if len(batch) == 0 {
			batch = make(map[string]pendingEntry, 1)
		}
		v := make([]byte, 8)
		binary.BigEndian.PutUint64(v, seq)
		batch[string(seqKey)] = pendingEntry{value: v}
	}
	if len(batch) == 0 {
		return nil
	}
	start := time.Now()
	err := d.write(batch)
	d.observe(OpFlush, start, err)
	if err != nil {
		d.requeue(batch)
		d.degraded.Store(true)
		if now := time.Now(); now.Sub(d.lastErr) > 30*time.Second {
			d.lastErr = now
			d.log.Error("store: write failed; recovery continues in memory until the disk accepts writes", "dir", d.dir, "pending", len(batch), "err", err)
		}
		return fmt.Errorf("store: write to %s: %w", d.dir, err)
	}
	if seq, ok := batch[string(seqKey)]; ok {
		d.flushedSeq = binary.BigEndian.Uint64(seq.value)
	}
	if d.degraded.CompareAndSwap(true, false) {
		d.log.Info("store: writes succeed again", "dir", d.dir)
	}
	return nil
}

// requeue puts back a batch that failed, below newer writes of the same keys
// and within MaxPending.
func (d *DB) requeue(batch map[string]pendingEntry) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for k, e := range batch {
		if _, newer := d.pending[k]; newer {
			continue
		}
		if len(d.pending) >= d.opts.MaxPending {
			d.dropped++
			continue
		}
		d.pending[k] = e
	}
}

// pendingValue returns the pending write of key, if any.
func (d *DB) pendingValue(key string) (pendingEntry, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	e, ok := d.pending[key]
	return e, ok
}

func (d *DB) writeBatch(batch map[string]pendingEntry) error {
	wb := d.db.NewWriteBatch()
	defer wb.Cancel()
	for k, e := range batch {
		if e.delete {
			if err := wb.Delete([]byte(k)); err != nil {
				return err
			}
			continue
		}
		v := e.value
		if e.record != nil {
			var err error
			if v, err = marshalRecord(e.record); err != nil {
				d.log.Error("store: encode record", "key", k, "err", err)
				continue
			}
		}
		ent := badger.NewEntry([]byte(k), v)
		ent.ExpiresAt = e.expiresAt
		if err := wb.SetEntry(ent); err != nil {
			return err
		}
	}
	return wb.Flush()
}

func (d *DB) flushLoop() {
	defer d.wg.Done()
	t := time.NewTicker(d.opts.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-d.stop:
			return
		case <-t.C:
			_ = d.Flush() // logged
		}
	}
}

// maintenanceLoop trims the recovery packets and runs value-log GC.
func (d *DB) maintenanceLoop() {
	defer d.wg.Done()
	gc := time.NewTicker(d.opts.GCInterval)
	defer gc.Stop()
	trim := time.NewTicker(time.Second)
	defer trim.Stop()
	for {
		select {
		case <-d.stop:
			return
		case <-trim.C:
			d.recMu.Lock()
			r := d.recovery
			d.recMu.Unlock()
			if r != nil {
				r.trim()
			}
		case <-gc.C:
			d.runGC()
		}
	}
}

// runGC rewrites value-log files while Badger finds one worth it.
func (d *DB) runGC() {
	start := time.Now()
	var gcErr error
	defer func() { d.observe(OpGC, start, gcErr) }()
	n := 0
	for n < 100 {
		select {
		case <-d.stop:
			return
		default:
		}
		if err := d.db.RunValueLogGC(d.opts.GCDiscardRatio); err != nil {
			if !errors.Is(err, badger.ErrNoRewrite) && !errors.Is(err, badger.ErrRejected) {
				d.log.Warn("store: value-log GC", "dir", d.dir, "err", err)
				gcErr = err
			}
			break
		}
		n++
	}
	if n > 0 {
		d.log.Info("store: value-log GC rewrote files", "dir", d.dir, "files", n)
	}
}

// Close stops the background work, writes the pending writes, closes Badger
// (flushing its memtables) and releases the lock. It is idempotent.
func (d *DB) Close() error {
	d.closeOnce.Do(func() {
		close(d.stop)
		d.wg.Wait()
		ferr := d.Flush()
		cerr := d.db.Close()
		d.lock.release()
		if cerr != nil {
			d.closeErr = fmt.Errorf("close data directory %s: %w", d.dir, cerr)
		} else if ferr != nil {
			d.closeErr = ferr
		}
		d.log.Info("data directory closed", "dir", d.dir)
	})
	return d.closeErr
}
