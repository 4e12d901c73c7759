package plugins

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero"

	"github.com/edged-io/edged/core"
	"github.com/edged-io/edged/store"
)

// Options configure a Manager.
type Options struct {
	// Dir is the plugin directory: every NAME.wasm in it is a plugin, with
	// optional settings in NAME.json.
	Dir string
	// CacheDir holds wazero's compilation cache (default: edged/wazero under
	// os.UserCacheDir, else under os.TempDir).
	CacheDir string
	// Limits are the defaults a settings file overrides.
	Limits Limits
	// Debounce is how long the watcher waits for a burst of file changes to
	// settle before reloading (default 150ms).
	Debounce time.Duration
	// Logger receives the log (default: slog.Default()).
	Logger *slog.Logger
	// KV is the plugins' durable key-value data (docs/ABI.md §4.5), each
	// plugin in the scope of its name; nil: the key-value ops answer
	// ERR_NOT_ALLOWED "key-value store not configured". It lives outside the
	// instances, so it survives hot reloads.
	KV store.KV
	// OnReload, if set, is called after every reload of one plugin that
	// changed something or failed (from Reload or the watcher): err is nil on
	// success, version is empty when the plugin was removed.
	OnReload func(name, version string, err error)
	// Observer, when non-nil, receives every dispatcher call (plugin,
	// version, kind, duration, outcome) and every reload, for metrics.
	Observer Observer
}

// PluginInfo describes a loaded plugin.
type PluginInfo struct {
	Name              string
	Version           string
	Namespaces        []string
	NamespacePatterns []string
}

// Manager loads the plugins of a directory into a core.Server, serves their
// namespaces and hot-reloads them. Its methods are safe for concurrent use.
type Manager struct {
	server *core.Server
	opts   Options
	log    *slog.Logger
	cache  wazero.CompilationCache

	routes atomic.Pointer[routeTable]

	mu            sync.Mutex // serialises loads and the hook bookkeeping
	closed        bool
	hooked        map[string]bool // static namespaces with our middleware
	hookedPattern map[string]bool
	hookedServer  map[string]bool // namespace + "\x00" + event
	parents       map[*core.ParentNamespace]bool

	watchMu sync.Mutex
	watcher *watcher
}

// New creates a manager for server; call Load to load the plugins.
func New(server *core.Server, opts Options) (*Manager, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Debounce <= 0 {
		opts.Debounce = 150 * time.Millisecond
	}
	if opts.CacheDir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			base = os.TempDir()
		}
		opts.CacheDir = filepath.Join(base, "edged", "wazero")
	}
	cache, err := wazero.NewCompilationCacheWithDir(opts.CacheDir)
	if err != nil {
		return nil, fmt.Errorf("plugins: compilation cache %s: %w", opts.CacheDir, err)
	}
	m := &Manager{
		server:        server,
		opts:          opts,
		log:           opts.Logger,
		cache:         cache,
		hooked:        make(map[string]bool),
		hookedPattern: make(map[string]bool),
		hookedServer:  make(map[string]bool),
		parents:       make(map[*core.ParentNamespace]bool),
	}
	m.routes.Store(&routeTable{plugins: map[string]*generation{}})
	return m, nil
}

// pluginFiles lists the plugin names of the directory, sorted.
func (m *Manager) pluginFiles() ([]string, error) {
	entries, err := os.ReadDir(m.opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("plugins: read %s: %w", m.opts.Dir, err)
	}
	var names []string
	for _, e := range entries {
		if name, ok := strings.CutSuffix(e.Name(), ".wasm"); ok && !e.IsDir() && name != "" {
			names = append(names, name)
		}
	}
	return names, nil
}

func (m *Manager) readFiles(name string) (wasm, settingsData []byte, err error) {
	wasm, err = os.ReadFile(filepath.Join(m.opts.Dir, name+".wasm"))
	if err != nil {
		return nil, nil, err
	}
	settingsData, err = os.ReadFile(filepath.Join(m.opts.Dir, name+".json"))
	if errors.Is(err, os.ErrNotExist) {
		return wasm, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("plugin %s: read settings: %w", name, err)
	}
	return wasm, settingsData, nil
}

// Load loads every plugin of the directory. Any error (a bad module, two
// plugins claiming one namespace) fails the whole load and nothing is served.
func (m *Manager) Load(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return errors.New("plugins: manager closed")
	}
	names, err := m.pluginFiles()
	if err != nil {
		return err
	}
	loaded := make(map[string]*generation, len(names))
	var errs []error
	for _, name := range names {
		wasm, set, err := m.readFiles(name)
		if err != nil {
			errs = append(errs, fmt.Errorf("plugin %s: %w", name, err))
			continue
		}
		g, err := m.loadGeneration(ctx, name, wasm, set)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		loaded[name] = g
	}
	var t *routeTable
	if len(errs) == 0 {
		t, err = buildRoutes(loaded)
		if err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		for _, g := range loaded {
			g.release()
		}
		return errors.Join(errs...)
	}
	old := m.routes.Swap(t)
	m.hook(t)
	for _, g := range old.plugins {
		g.release()
	}
	for _, name := range names {
		g := loaded[name]
		g.log.Info("plugin loaded", "namespaces", g.decl.Namespaces, "patterns", g.decl.NamespacePatterns)
	}
	return nil
}

// Plugins describes the plugins being served, sorted by name.
func (m *Manager) Plugins() []PluginInfo {
	t := m.routes.Load()
	out := make([]PluginInfo, 0, len(t.plugins))
	for _, g := range t.plugins {
		out = append(out, PluginInfo{Name: g.name, Version: g.version,
			Namespaces: g.decl.Namespaces, NamespacePatterns: g.decl.NamespacePatterns})
	}
	slices.SortFunc(out, func(a, b PluginInfo) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Reload rescans the directory: new and changed plugins are loaded, removed
// ones stop being served. A plugin that fails to load keeps its old version;
// the errors are returned joined.
func (m *Manager) Reload(ctx context.Context) error {
	names, err := m.pluginFiles()
	if err != nil {
		return err
	}
	for name := range m.routes.Load().plugins {
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	var errs []error
	for _, name := range names {
		if err := m.reloadPlugin(ctx, name); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// reloadPlugin loads the current files of one plugin and swaps it in.
func (m *Manager) reloadPlugin(ctx context.Context, name string) (err error) {
	version, changed := "", true
	defer func() {
		if err != nil {
			m.log.Error("plugin reload failed", "plugin", name, "err", err)
		}
		if changed && m.opts.Observer != nil {
			m.opts.Observer.Reload(name, version, err)
		}
		if changed && m.opts.OnReload != nil {
			m.opts.OnReload(name, version, err)
		}
	}()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return errors.New("plugins: manager closed")
	}
	cur := m.routes.Load()
	old := cur.plugins[name]
	wasm, set, err := m.readFiles(name)
	if errors.Is(err, os.ErrNotExist) {
		if old == nil {
			changed = false
			return nil
		}
		next := cur.without(name)
		t, err := buildRoutes(next)
		if err != nil {
			return err
		}
		m.routes.Store(t)
		old.log.Info("plugin removed")
		old.release()
		return nil
	}
	if err != nil {
		return fmt.Errorf("plugin %s: %w", name, err)
	}
	if old != nil && old.hash == combinedHash(wasm, set) {
		changed = false
		return nil
	}
	g, err := m.loadGeneration(ctx, name, wasm, set)
	if err != nil {
		return err
	}
	next := cur.without(name)
	next[name] = g
	t, err := buildRoutes(next)
	if err != nil {
		g.release()
		return err
	}
	m.routes.Store(t)
	m.hook(t)
	if old != nil {
		old.release()
	}
	version = g.version
	g.log.Info("plugin loaded", "namespaces", g.decl.Namespaces, "patterns", g.decl.NamespacePatterns)
	return nil
}

// Close stops the watcher and stops serving; versions still running calls
// close once those end. Connected sockets stay connected.
func (m *Manager) Close() error {
	m.stopWatch()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	m.closed = true
	old := m.routes.Swap(&routeTable{plugins: map[string]*generation{}})
	for _, g := range old.plugins {
		g.release()
	}
	return m.cache.Close(context.Background())
}

// hook registers the core handlers for namespaces, patterns and server-side
// events seen for the first time. Handlers are registered once and look up
// the route table at every call. Called with m.mu held.
func (m *Manager) hook(t *routeTable) {
	for _, name := range slices.Sorted(maps.Keys(t.static)) {
		if m.hooked[name] {
			continue
		}
		m.hooked[name] = true
		n := m.server.Of(name)
		if p := n.Parent(); p != nil && m.parents[p] {
			continue // a child of one of our patterns: its parent's handlers run already
		}
		n.Use(m.connectMiddleware)
		n.OnConnection(m.onConnection)
	}
	for _, p := range t.patterns {
		if m.hookedPattern[p.src] {
			continue
		}
		m.hookedPattern[p.src] = true
		parent := m.server.OfRegexp(p.re)
		m.parents[parent] = true
		parent.Use(m.connectMiddleware)
		parent.OnConnection(m.onConnection)
	}
	for _, g := range t.plugins {
		for _, nsp := range g.decl.Namespaces {
			for _, event := range g.decl.ServerSide {
				key := nsp + "\x00" + event
				if m.hookedServer[key] {
					continue
				}
				m.hookedServer[key] = true
				n := m.server.Of(nsp)
				n.OnServerSideEmit(event, m.serverSideHandler(n, event))
			}
		}
	}
}

// routeTable maps namespaces to the generation serving them. It is
// immutable; a reload stores a new one.
type routeTable struct {
	plugins  map[string]*generation
	static   map[string]*generation
	patterns []patternRoute
}

type patternRoute struct {
	src string
	re  *regexp.Regexp
	g   *generation
}

func (t *routeTable) lookup(nsp string) *generation {
	if g := t.static[nsp]; g != nil {
		return g
	}
	for _, p := range t.patterns {
		if p.re.MatchString(nsp) {
			return p.g
		}
	}
	return nil
}

func (t *routeTable) without(name string) map[string]*generation {
	out := make(map[string]*generation, len(t.plugins))
	for k, g := range t.plugins {
		if k != name {
			out[k] = g
		}
	}
	return out
}

// buildRoutes indexes the plugins' namespaces; two plugins claiming one
// namespace or one pattern is an error naming both.
func buildRoutes(plugins map[string]*generation) (*routeTable, error) {
	t := &routeTable{plugins: plugins, static: make(map[string]*generation)}
	patternOwner := make(map[string]*generation)
	for _, name := range slices.Sorted(maps.Keys(plugins)) {
		g := plugins[name]
		for _, nsp := range g.decl.Namespaces {
			nsp = normalizeNamespace(nsp)
			if other := t.static[nsp]; other != nil && other != g {
				return nil, fmt.Errorf("plugins %s and %s both declare namespace %q", other.name, g.name, nsp)
			}
			t.static[nsp] = g
		}
		for i, src := range g.decl.NamespacePatterns {
			if other := patternOwner[src]; other != nil && other != g {
				return nil, fmt.Errorf("plugins %s and %s both declare namespace pattern %q", other.name, g.name, src)
			}
			patternOwner[src] = g
			t.patterns = append(t.patterns, patternRoute{src: src, re: g.patterns[i], g: g})
		}
	}
	return t, nil
}

func normalizeNamespace(name string) string {
	if !strings.HasPrefix(name, "/") {
		return "/" + name
	}
	return name
}
