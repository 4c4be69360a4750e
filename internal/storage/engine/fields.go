package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"sync"

	"github.com/stratadb/strata/internal/models"
	"github.com/stratadb/strata/internal/vfs"
)

// fieldsFile is the name of the per-shard field-type file.
const fieldsFile = "fields.json"

// FieldSet records the type of every field of every measurement in one
// shard. A field's type is fixed per shard once written (1.x semantics); a
// write with another type is a field type conflict.
//
// It is persisted when the cache is snapshotted; values written since are
// in the WAL, whose records carry their types, so replay restores the rest.
type FieldSet struct {
	mu           sync.RWMutex // guards measurements and dirty
	measurements map[string]map[string]models.FieldType
	dirty        bool
}

func newFieldSet() *FieldSet {
	return &FieldSet{measurements: make(map[string]map[string]models.FieldType)}
}

// FieldTypeConflictError is 1.x's field type conflict.
type FieldTypeConflictError struct {
	Measurement, Field string
	Got, Want          models.FieldType
}

func (e *FieldTypeConflictError) Error() string {
	return fmt.Sprintf("field type conflict: input field %q on measurement %q is type %s, already exists as type %s",
		e.Field, e.Measurement, e.Got, e.Want)
}

// check validates the fields of one point and records new ones. It returns
// a conflict error for the first field whose type differs from the stored
// one; in that case nothing of the point is recorded.
func (fs *FieldSet) check(measurement []byte, fields []models.Field) error {
	fs.mu.RLock()
	known := fs.measurements[string(measurement)]
	allKnown := known != nil
	for i := range fields {
		f := &fields[i]
		t, ok := known[string(f.Key)]
		if !ok {
			allKnown = false
			continue
		}
		if t != f.Type {
			fs.mu.RUnlock()
			return &FieldTypeConflictError{Measurement: string(measurement), Field: string(f.Key), Got: f.Type, Want: t}
		}
	}
	fs.mu.RUnlock()
	if allKnown {
		return nil
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	m := fs.measurements[string(measurement)]
	// Check again under the write lock: another writer may have added the
	// field with another type in between.
	for i := range fields {
		if t, ok := m[string(fields[i].Key)]; ok && t != fields[i].Type {
			f := &fields[i]
			return &FieldTypeConflictError{Measurement: string(measurement), Field: string(f.Key), Got: f.Type, Want: t}
		}
	}
	if m == nil {
		m = make(map[string]models.FieldType)
		fs.measurements[string(measurement)] = m
	}
	for i := range fields {
		if _, ok := m[string(fields[i].Key)]; !ok {
			m[string(fields[i].Key)] = fields[i].Type
			fs.dirty = true
		}
	}
	return nil
}

// set records a field type during WAL replay, where the record's type wins
// (it was validated when written).
func (fs *FieldSet) set(measurement, field string, t models.FieldType) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	m := fs.measurements[measurement]
	if m == nil {
		m = make(map[string]models.FieldType)
		fs.measurements[measurement] = m
	}
	if _, ok := m[field]; !ok {
		m[field] = t
		fs.dirty = true
	}
}

// Type returns the type of a field, or Unknown.
func (fs *FieldSet) Type(measurement, field string) models.FieldType {
	fs.mu.RLock()
	defer fs.mu.RUnlock()
	return fs.measurements[measurement][field]
}

// Fields returns a copy of a measurement's fields and types.
func (fs *FieldSet) Fields(measurement string) map[string]models.FieldType {
	fs.mu.RLock()
	defer fs.mu.RUnlock()
	return maps.Clone(fs.measurements[measurement])
}

// Measurements returns the measurements that have fields, sorted.
func (fs *FieldSet) Measurements() []string {
	fs.mu.RLock()
	defer fs.mu.RUnlock()
	return slices.Sorted(maps.Keys(fs.measurements))
}

// dropMeasurement forgets a measurement's fields.
func (fs *FieldSet) dropMeasurement(name string) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if _, ok := fs.measurements[name]; ok {
		delete(fs.measurements, name)
		fs.dirty = true
	}
}

type fieldsFileV1 struct {
	Version      int                          `json:"version"`
	Measurements map[string]map[string]string `json:"measurements"`
}

func parseFieldType(s string) models.FieldType {
	for t := models.Float; t <= models.Boolean; t++ {
		if t.String() == s {
			return t
		}
	}
	return models.Unknown
}

// save writes the field set atomically if it changed since the last save.
func (fs *FieldSet) save(fsys vfs.FS, dir string) error {
	fs.mu.Lock()
	if !fs.dirty {
		fs.mu.Unlock()
		return nil
	}
	out := fieldsFileV1{Version: 1, Measurements: make(map[string]map[string]string, len(fs.measurements))}
	for m, fields := range fs.measurements {
		ff := make(map[string]string, len(fields))
		for f, t := range fields {
			ff[f] = t.String()
		}
		out.Measurements[m] = ff
	}
	fs.dirty = false
	fs.mu.Unlock()
	data, err := json.Marshal(out)
	if err != nil {
		return err
	}
	if err := vfs.WriteFileAtomic(fsys, filepath.Join(dir, fieldsFile), data); err != nil {
		fs.mu.Lock()
		fs.dirty = true
		fs.mu.Unlock()
		return fmt.Errorf("save field types: %w", err)
	}
	return nil
}

func loadFieldSet(fsys vfs.FS, dir string) (*FieldSet, error) {
	fs := newFieldSet()
	path := filepath.Join(dir, fieldsFile)
	data, err := vfs.ReadFile(fsys, path)
	if errors.Is(err, errNotExist) {
		return fs, nil
	}
	if err != nil {
		return nil, err
	}
	var in fieldsFileV1
	if err := json.Unmarshal(data, &in); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for m, fields := range in.Measurements {
		mm := make(map[string]models.FieldType, len(fields))
		for f, ts := range fields {
			t := parseFieldType(ts)
			if !t.Valid() {
				return nil, fmt.Errorf("%s: measurement %q field %q: unknown type %q", path, m, f, ts)
			}
			mm[f] = t
		}
		fs.measurements[m] = mm
	}
	return fs, nil
}
