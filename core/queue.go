package core

import "sync"

// serialQueue runs tasks one at a time in push order. A goroutine exists only
// while tasks are pending, so an idle socket costs no goroutine.
type serialQueue struct {
	mu      sync.Mutex
	tasks   []func()
	running bool
	reserve bool  // reserveStack before running tasks (Options.ReserveHandlerStack)
	limit   int32 // beside running: an idle socket is small
	onPanic func(v any)
}

// push appends a task and reports false when the queue already holds its
// limit of pending tasks (the task is then not queued).
func (q *serialQueue) push(task func()) bool {
	q.mu.Lock()
	if q.limit > 0 && len(q.tasks) >= int(q.limit) {
		q.mu.Unlock()
		return false
	}
	q.tasks = append(q.tasks, task)
	if q.running {
		q.mu.Unlock()
		return true
	}
	q.running = true
	q.mu.Unlock()
	go q.drain()
	return true
}

// pushAlways appends a task regardless of the limit; used for lifecycle tasks
// (disconnect) that must never be dropped.
func (q *serialQueue) pushAlways(task func()) {
	q.mu.Lock()
	q.tasks = append(q.tasks, task)
	if q.running {
		q.mu.Unlock()
		return
	}
	q.running = true
	q.mu.Unlock()
	go q.drain()
}

// hold keeps pushed tasks from running until release.
func (q *serialQueue) hold() {
	q.mu.Lock()
	q.running = true
	q.mu.Unlock()
}

// release starts running the tasks pushed since hold.
func (q *serialQueue) release() {
	go q.drain()
}

func (q *serialQueue) drain() {
	if q.reserve {
		reserveStack()
	}
	for {
		q.mu.Lock()
		if len(q.tasks) == 0 {
			q.running = false
			q.tasks = nil
			q.mu.Unlock()
			return
		}
		task := q.tasks[0]
		q.tasks[0] = nil
		q.tasks = q.tasks[1:]
		q.mu.Unlock()
		q.run(task)
	}
}

// run calls a task; a panic in user code is reported, not allowed to kill the process.
func (q *serialQueue) run(task func()) {
	defer func() {
		if v := recover(); v != nil && q.onPanic != nil {
			q.onPanic(v)
		}
	}()
	task()
}

// reservedStack is the goroutine stack reserveStack secures: enough for a
// WebAssembly guest call and the host functions and emits below it.
const reservedStack = 8 << 10

// reserveStack grows the calling goroutine's stack to reservedStack while
// the goroutine is still shallow. A stack that grows in the middle of a deep
// handler is copied frame by frame (about 1 µs for a plugin call); growing it
// first costs a fraction of that.
//
//go:noinline
func reserveStack() {
	var frame [reservedStack]byte
	touchStack(frame[:])
}

//go:noinline
func touchStack(b []byte) { b[len(b)-1] = 0 }
