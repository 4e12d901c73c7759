package plugins

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

// watcher turns file events of the plugin directory into debounced reloads
// of the plugin they name.
type watcher struct {
	fs   *fsnotify.Watcher
	done chan struct{}
	wg   sync.WaitGroup

	mu     sync.Mutex
	timers map[string]*time.Timer

	runMu   sync.RWMutex // held shared by a running reload, exclusively by stop
	stopped bool
}

// Watch starts watching the plugin directory: a created, written, renamed or
// removed NAME.wasm or NAME.json reloads plugin NAME after the debounce
// delay. It returns once the watch is set up; Close stops it.
func (m *Manager) Watch() error {
	m.watchMu.Lock()
	defer m.watchMu.Unlock()
	if m.watcher != nil {
		return nil
	}
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("plugins: watch: %w", err)
	}
	if err := fw.Add(m.opts.Dir); err != nil {
		_ = fw.Close()
		return fmt.Errorf("plugins: watch %s: %w", m.opts.Dir, err)
	}
	w := &watcher{fs: fw, done: make(chan struct{}), timers: make(map[string]*time.Timer)}
	m.watcher = w
	w.wg.Add(1)
	go m.watchLoop(w)
	return nil
}

func (m *Manager) watchLoop(w *watcher) {
	defer w.wg.Done()
	for {
		select {
		case ev, ok := <-w.fs.Events:
			if !ok {
				return
			}
			if !ev.Has(fsnotify.Create) && !ev.Has(fsnotify.Write) && !ev.Has(fsnotify.Rename) && !ev.Has(fsnotify.Remove) {
				continue
			}
			base := filepath.Base(ev.Name)
			name, ok := strings.CutSuffix(base, ".wasm")
			if !ok {
				name, ok = strings.CutSuffix(base, ".json")
			}
			if !ok || name == "" || strings.HasPrefix(name, ".") {
				continue
			}
			w.schedule(name, m.opts.Debounce, func() {
				w.runMu.RLock()
				defer w.runMu.RUnlock()
				if w.stopped {
					return
				}
				_ = m.reloadPlugin(context.Background(), name)
			})
		case err, ok := <-w.fs.Errors:
			if !ok {
				return
			}
			m.log.Warn("plugin watch error", "err", err)
		case <-w.done:
			return
		}
	}
}

func (w *watcher) schedule(name string, d time.Duration, f func()) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if t := w.timers[name]; t != nil {
		t.Stop()
	}
	w.timers[name] = time.AfterFunc(d, f)
}

func (m *Manager) stopWatch() {
	m.watchMu.Lock()
	w := m.watcher
	m.watcher = nil
	m.watchMu.Unlock()
	if w == nil {
		return
	}
	close(w.done)
	_ = w.fs.Close()
	w.mu.Lock()
	for _, t := range w.timers {
		t.Stop()
	}
	w.mu.Unlock()
	w.wg.Wait()
	w.runMu.Lock()
	w.stopped = true
	w.runMu.Unlock()
}
