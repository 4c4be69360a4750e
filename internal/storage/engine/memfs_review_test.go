package engine

import (
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/stratadb/strata/internal/vfs"
)

// rvMemFS is an in-memory vfs.FS that can lose, at a simulated power cut,
// exactly what a real disk may lose:
//
//   - file contents survive only as of their last fsync (File.Sync);
//     anything written after it, or an O_TRUNC not followed by one, is
//     undone;
//   - creations, renames and removals of files are durable only once a
//     SyncDir has committed them; those made since the last SyncDir survive
//     as a prefix, in the order they were made (as with a journalling file
//     system, whose commits keep the order of metadata operations): a crash
//     keeps a random number of them.
//
// Simplifications: directories are durable as soon as they are made (the
// engine syncs the parent of the directories it creates anyway), and one
// SyncDir commits the pending operations of every directory, as a journal
// commit does. It is fast (no disk, no fsync cost), so the randomized tests
// can run many steps.
type rvMemFS struct {
	mu      sync.Mutex
	dirs    map[string]bool
	names   map[string]*rvInode // the namespace the running process sees
	durable map[string]*rvInode // the namespace as of the last SyncDir
	pending []rvMetaOp          // namespace changes since the last SyncDir
}

type rvInode struct {
	mu     sync.Mutex
	data   []byte
	synced []byte
}

type rvMetaOp struct {
	kind     byte // 'c' create, 'r' rename, 'd' remove
	from, to string
	ino      *rvInode
}

func newRVMemFS() *rvMemFS {
	return &rvMemFS{dirs: map[string]bool{"/": true}, names: map[string]*rvInode{}, durable: map[string]*rvInode{}}
}

func (m *rvMemFS) parentOK(name string) bool { return m.dirs[filepath.Dir(name)] }

func notExist(op, name string) error { return &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist} }

// OpenFile implements vfs.FS.
func (m *rvMemFS) OpenFile(name string, flag int, _ fs.FileMode) (vfs.File, error) {
	name = filepath.Clean(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.dirs[name] {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	ino := m.names[name]
	if ino == nil {
		if flag&os.O_CREATE == 0 {
			return nil, notExist("open", name)
		}
		if !m.parentOK(name) {
			return nil, notExist("open", name)
		}
		ino = &rvInode{}
		m.names[name] = ino
		m.pending = append(m.pending, rvMetaOp{kind: 'c', to: name, ino: ino})
	}
	if flag&os.O_TRUNC != 0 {
		ino.mu.Lock()
		ino.data = nil
		ino.mu.Unlock()
	}
	return &rvMemFile{name: name, ino: ino, readOnly: flag&(os.O_RDWR|os.O_WRONLY) == 0}, nil
}

// Rename implements vfs.FS.
func (m *rvMemFS) Rename(oldpath, newpath string) error {
	oldpath, newpath = filepath.Clean(oldpath), filepath.Clean(newpath)
	m.mu.Lock()
	defer m.mu.Unlock()
	ino := m.names[oldpath]
	if ino == nil || !m.parentOK(newpath) {
		return notExist("rename", oldpath)
	}
	delete(m.names, oldpath)
	m.names[newpath] = ino
	m.pending = append(m.pending, rvMetaOp{kind: 'r', from: oldpath, to: newpath, ino: ino})
	return nil
}

// Remove implements vfs.FS.
func (m *rvMemFS) Remove(name string) error {
	name = filepath.Clean(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.dirs[name] {
		for n := range m.names {
			if strings.HasPrefix(n, name+"/") {
				return &fs.PathError{Op: "remove", Path: name, Err: fs.ErrExist}
			}
		}
		delete(m.dirs, name)
		return nil
	}
	if m.names[name] == nil {
		return notExist("remove", name)
	}
	delete(m.names, name)
	m.pending = append(m.pending, rvMetaOp{kind: 'd', from: name})
	return nil
}

// RemoveAll implements vfs.FS. Removing a tree is made durable at once
// (the tests that drop shards do not crash).
func (m *rvMemFS) RemoveAll(name string) error {
	name = filepath.Clean(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	for n := range m.names {
		if n == name || strings.HasPrefix(n, name+"/") {
			delete(m.names, n)
			m.pending = append(m.pending, rvMetaOp{kind: 'd', from: n})
		}
	}
	for d := range m.dirs {
		if d == name || strings.HasPrefix(d, name+"/") {
			delete(m.dirs, d)
		}
	}
	return nil
}

// MkdirAll implements vfs.FS.
func (m *rvMemFS) MkdirAll(name string, _ fs.FileMode) error {
	name = filepath.Clean(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	for d := name; ; d = filepath.Dir(d) {
		if m.names[d] != nil {
			return &fs.PathError{Op: "mkdir", Path: d, Err: fs.ErrExist}
		}
		m.dirs[d] = true
		if d == "/" || d == "." {
			return nil
		}
	}
}

// ReadDir implements vfs.FS.
func (m *rvMemFS) ReadDir(name string) ([]fs.DirEntry, error) {
	name = filepath.Clean(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.dirs[name] {
		return nil, notExist("readdir", name)
	}
	var out []fs.DirEntry
	for n, ino := range m.names {
		if filepath.Dir(n) == name {
			out = append(out, rvDirEntry{name: filepath.Base(n), size: ino.size()})
		}
	}
	for d := range m.dirs {
		if d != name && filepath.Dir(d) == name {
			out = append(out, rvDirEntry{name: filepath.Base(d), dir: true})
		}
	}
	slices.SortFunc(out, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return out, nil
}

// Stat implements vfs.FS.
func (m *rvMemFS) Stat(name string) (fs.FileInfo, error) {
	name = filepath.Clean(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.dirs[name] {
		return rvDirEntry{name: filepath.Base(name), dir: true}, nil
	}
	if ino := m.names[name]; ino != nil {
		return rvDirEntry{name: filepath.Base(name), size: ino.size()}, nil
	}
	return nil, notExist("stat", name)
}

// SyncDir implements vfs.FS: it commits every pending namespace change.
func (m *rvMemFS) SyncDir(name string) error {
	name = filepath.Clean(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.dirs[name] {
		return notExist("syncdir", name)
	}
	for _, op := range m.pending {
		applyMetaOp(m.durable, op)
	}
	m.pending = nil
	return nil
}

func applyMetaOp(ns map[string]*rvInode, op rvMetaOp) {
	switch op.kind {
	case 'c':
		ns[op.to] = op.ino
	case 'r':
		delete(ns, op.from)
		ns[op.to] = op.ino
	case 'd':
		delete(ns, op.from)
	}
}

// Crash simulates a power cut: the namespace becomes the durable one plus a
// random prefix of the pending changes (all of them with keepAll), and every
// file's contents become what its last fsync made durable. Files open
// before the crash must not be used afterwards.
func (m *rvMemFS) Crash(rng *rand.Rand, keepAll bool) (kept, lost int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := len(m.pending)
	if !keepAll && rng != nil {
		k = rng.IntN(len(m.pending) + 1)
	}
	for _, op := range m.pending[:k] {
		applyMetaOp(m.durable, op)
	}
	kept, lost = k, len(m.pending)-k
	m.pending = nil
	fresh := make(map[string]*rvInode, len(m.durable))
	for n, ino := range m.durable {
		ino.mu.Lock()
		data := slices.Clone(ino.synced)
		ino.mu.Unlock()
		fresh[n] = &rvInode{data: data, synced: slices.Clone(data)}
	}
	m.durable = fresh
	m.names = make(map[string]*rvInode, len(fresh))
	for n, ino := range fresh {
		m.names[n] = ino
	}
	return kept, lost
}

func (ino *rvInode) size() int64 {
	ino.mu.Lock()
	defer ino.mu.Unlock()
	return int64(len(ino.data))
}

type rvMemFile struct {
	name     string
	ino      *rvInode
	pos      int64
	readOnly bool
	closed   bool
}

func (f *rvMemFile) Name() string { return f.name }

func (f *rvMemFile) Read(p []byte) (int, error) {
	n, err := f.ReadAt(p, f.pos)
	f.pos += int64(n)
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}

func (f *rvMemFile) ReadAt(p []byte, off int64) (int, error) {
	if f.closed {
		return 0, fs.ErrClosed
	}
	f.ino.mu.Lock()
	defer f.ino.mu.Unlock()
	if off >= int64(len(f.ino.data)) {
		return 0, io.EOF
	}
	n := copy(p, f.ino.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (f *rvMemFile) Write(p []byte) (int, error) {
	if f.closed {
		return 0, fs.ErrClosed
	}
	if f.readOnly {
		return 0, &fs.PathError{Op: "write", Path: f.name, Err: fs.ErrPermission}
	}
	f.ino.mu.Lock()
	defer f.ino.mu.Unlock()
	end := f.pos + int64(len(p))
	if end > int64(len(f.ino.data)) {
		f.ino.data = append(f.ino.data, make([]byte, end-int64(len(f.ino.data)))...)
	}
	copy(f.ino.data[f.pos:], p)
	f.pos = end
	return len(p), nil
}

func (f *rvMemFile) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += f.pos
	case io.SeekEnd:
		offset += f.ino.size()
	}
	if offset < 0 {
		return 0, fs.ErrInvalid
	}
	f.pos = offset
	return offset, nil
}

func (f *rvMemFile) Close() error {
	if f.closed {
		return fs.ErrClosed
	}
	f.closed = true
	return nil
}

func (f *rvMemFile) Stat() (fs.FileInfo, error) {
	return rvDirEntry{name: filepath.Base(f.name), size: f.ino.size()}, nil
}

func (f *rvMemFile) Sync() error {
	if f.closed {
		return fs.ErrClosed
	}
	f.ino.mu.Lock()
	defer f.ino.mu.Unlock()
	f.ino.synced = slices.Clone(f.ino.data)
	return nil
}

func (f *rvMemFile) Truncate(size int64) error {
	if f.closed {
		return fs.ErrClosed
	}
	f.ino.mu.Lock()
	defer f.ino.mu.Unlock()
	if size < int64(len(f.ino.data)) {
		f.ino.data = f.ino.data[:size:size]
	} else {
		f.ino.data = append(f.ino.data, make([]byte, size-int64(len(f.ino.data)))...)
	}
	return nil
}

// rvDirEntry serves as both fs.DirEntry and fs.FileInfo.
type rvDirEntry struct {
	name string
	size int64
	dir  bool
}

func (e rvDirEntry) Name() string { return e.name }
func (e rvDirEntry) IsDir() bool  { return e.dir }
func (e rvDirEntry) Type() fs.FileMode {
	if e.dir {
		return fs.ModeDir
	}
	return 0
}
func (e rvDirEntry) Info() (fs.FileInfo, error) { return e, nil }
func (e rvDirEntry) Size() int64                { return e.size }
func (e rvDirEntry) Mode() fs.FileMode {
	if e.dir {
		return fs.ModeDir | 0o755
	}
	return 0o644
}
func (e rvDirEntry) ModTime() time.Time { return time.Time{} }
func (e rvDirEntry) Sys() any           { return nil }
