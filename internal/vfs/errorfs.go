package vfs

import (
	"errors"
	"io/fs"
	"sync"
)

// Op names an operation ErrorFS can fail.
type Op string

// Operations ErrorFS can fail.
const (
	OpOpen     Op = "open"
	OpWrite    Op = "write"
	OpSync     Op = "sync"
	OpRename   Op = "rename"
	OpRemove   Op = "remove"
	OpMkdir    Op = "mkdir"
	OpSyncDir  Op = "syncdir"
	OpTruncate Op = "truncate"
)

// ErrInjected is the error ErrorFS returns by default.
var ErrInjected = errors.New("injected I/O error")

// Injector decides whether an operation on path fails; it returns nil to
// let the operation through.
type Injector func(op Op, path string) error

// ErrorFS wraps an FS and fails the operations its injector picks. It is
// the tool for testing that a failed write, fsync or rename reaches the
// request as an error and loses nothing already acknowledged.
type ErrorFS struct {
	inner FS
	mu    sync.Mutex // guards inject
	inj   Injector
}

// NewErrorFS wraps inner; inj may be nil (no failures) and changed later.
func NewErrorFS(inner FS, inj Injector) *ErrorFS {
	return &ErrorFS{inner: inner, inj: inj}
}

// SetInjector replaces the injector; nil lets everything through.
func (e *ErrorFS) SetInjector(inj Injector) {
	e.mu.Lock()
	e.inj = inj
	e.mu.Unlock()
}

func (e *ErrorFS) check(op Op, path string) error {
	e.mu.Lock()
	inj := e.inj
	e.mu.Unlock()
	if inj == nil {
		return nil
	}
	return inj(op, path)
}

// OpenFile implements FS.
func (e *ErrorFS) OpenFile(name string, flag int, perm fs.FileMode) (File, error) {
	if err := e.check(OpOpen, name); err != nil {
		return nil, err
	}
	f, err := e.inner.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &errorFile{File: f, fs: e}, nil
}

// Rename implements FS.
func (e *ErrorFS) Rename(oldpath, newpath string) error {
	if err := e.check(OpRename, newpath); err != nil {
		return err
	}
	return e.inner.Rename(oldpath, newpath)
}

// Remove implements FS.
func (e *ErrorFS) Remove(name string) error {
	if err := e.check(OpRemove, name); err != nil {
		return err
	}
	return e.inner.Remove(name)
}

// RemoveAll implements FS.
func (e *ErrorFS) RemoveAll(name string) error {
	if err := e.check(OpRemove, name); err != nil {
		return err
	}
	return e.inner.RemoveAll(name)
}

// MkdirAll implements FS.
func (e *ErrorFS) MkdirAll(name string, perm fs.FileMode) error {
	if err := e.check(OpMkdir, name); err != nil {
		return err
	}
	return e.inner.MkdirAll(name, perm)
}

// ReadDir implements FS.
func (e *ErrorFS) ReadDir(name string) ([]fs.DirEntry, error) { return e.inner.ReadDir(name) }

// Stat implements FS.
func (e *ErrorFS) Stat(name string) (fs.FileInfo, error) { return e.inner.Stat(name) }

// SyncDir implements FS.
func (e *ErrorFS) SyncDir(name string) error {
	if err := e.check(OpSyncDir, name); err != nil {
		return err
	}
	return e.inner.SyncDir(name)
}

type errorFile struct {
	File
	fs *ErrorFS
}

func (f *errorFile) Write(p []byte) (int, error) {
	if err := f.fs.check(OpWrite, f.Name()); err != nil {
		return 0, err
	}
	return f.File.Write(p)
}

func (f *errorFile) Sync() error {
	if err := f.fs.check(OpSync, f.Name()); err != nil {
		return err
	}
	return f.File.Sync()
}

func (f *errorFile) Truncate(size int64) error {
	if err := f.fs.check(OpTruncate, f.Name()); err != nil {
		return err
	}
	return f.File.Truncate(size)
}
