package meta_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/stratadb/strata/internal/meta"
)

// TestCloneIsDeep checks, by reflection over every field, that a clone
// shares no slice or map with the original and that changing every value
// reachable from the clone leaves the original as it was. The fixture must
// set every field, which the test checks too, so a field added later
// without clone support fails here.
func TestCloneIsDeep(t *testing.T) {
	orig := fullData(t)
	checkPopulated(t, "Data", reflect.ValueOf(orig).Elem())
	want := fullData(t)

	clone := orig.Clone()
	if diff := cmp.Diff(orig, clone); diff != "" {
		t.Fatalf("clone differs (-orig +clone):\n%s", diff)
	}
	checkNotShared(t, "Data", reflect.ValueOf(orig).Elem(), reflect.ValueOf(clone).Elem())
	mutateAll(reflect.ValueOf(clone).Elem())
	if diff := cmp.Diff(want, orig); diff != "" {
		t.Fatalf("mutating the clone changed the original (-want +got):\n%s", diff)
	}
	if cmp.Equal(want, clone) {
		t.Fatal("mutateAll changed nothing: the test is broken")
	}
	// Nil slices stay nil.
	empty := (&meta.Data{}).Clone()
	if empty.Databases != nil || empty.Users != nil {
		t.Fatalf("clone of empty = %+v", empty)
	}
}

var timeType = reflect.TypeFor[time.Time]()

// checkPopulated fails for any zero field, empty slice or empty map.
func checkPopulated(t *testing.T, path string, v reflect.Value) {
	t.Helper()
	if v.Type() == timeType {
		if v.Interface().(time.Time).IsZero() {
			t.Errorf("fixture leaves %s zero", path)
		}
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			checkPopulated(t, path+"."+v.Type().Field(i).Name, v.Field(i))
		}
	case reflect.Slice, reflect.Map:
		if v.Len() == 0 {
			t.Errorf("fixture leaves %s empty", path)
		}
		if v.Kind() == reflect.Slice {
			for i := range v.Len() {
				checkPopulated(t, path+"[]", v.Index(i))
			}
		} else {
			for _, k := range v.MapKeys() {
				checkPopulated(t, path+"{}", v.MapIndex(k))
			}
		}
	default:
		if v.IsZero() {
			t.Errorf("fixture leaves %s zero", path)
		}
	}
}

// checkNotShared fails when a slice or map of a is the same memory as the
// one of b at the same path.
func checkNotShared(t *testing.T, path string, a, b reflect.Value) {
	t.Helper()
	if a.Type() == timeType {
		return
	}
	switch a.Kind() {
	case reflect.Struct:
		for i := range a.NumField() {
			checkNotShared(t, path+"."+a.Type().Field(i).Name, a.Field(i), b.Field(i))
		}
	case reflect.Slice:
		if a.Len() > 0 && a.Pointer() == b.Pointer() {
			t.Errorf("%s is shared", path)
		}
		for i := range a.Len() {
			checkNotShared(t, path+"[]", a.Index(i), b.Index(i))
		}
	case reflect.Map:
		if a.Len() > 0 && a.UnsafePointer() == b.UnsafePointer() {
			t.Errorf("%s is shared", path)
		}
	}
}

// mutateAll changes every settable value reachable from v.
func mutateAll(v reflect.Value) {
	if v.Type() == timeType {
		v.Set(reflect.ValueOf(v.Interface().(time.Time).Add(time.Hour)))
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			mutateAll(v.Field(i))
		}
	case reflect.Slice:
		for i := range v.Len() {
			mutateAll(v.Index(i))
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			e := reflect.New(v.Type().Elem()).Elem()
			e.Set(v.MapIndex(k))
			mutateAll(e)
			v.SetMapIndex(k, e)
		}
		v.SetMapIndex(reflect.ValueOf("added"), reflect.Zero(v.Type().Elem()))
	case reflect.String:
		v.SetString(v.String() + "x")
	case reflect.Bool:
		v.SetBool(!v.Bool())
	case reflect.Int, reflect.Int64:
		v.SetInt(v.Int() + 1)
	case reflect.Uint64:
		v.SetUint(v.Uint() + 1)
	}
}
