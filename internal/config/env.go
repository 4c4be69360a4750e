package config

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Environment variable prefixes, in increasing precedence.
const (
	envPrefixInflux = "INFLUXDB_"
	envPrefixStrata = "STRATA_"
)

// maxEnvListGrowth bounds how many elements indexed variables (NAME_0,
// NAME_1, ...) may append to a list, as 1.x does.
const maxEnvListGrowth = 64

// ApplyEnv overrides settings from environment variables given as
// "NAME=value" strings (os.Environ's form; when a name repeats, the last one
// wins). For each key, STRATA_<SECTION>_<KEY> wins over
// INFLUXDB_<SECTION>_<KEY>; top-level keys have no section part
// (INFLUXDB_REPORTING_DISABLED). Section and key are upper-cased with '-'
// turned into '_'. Values are trimmed and an empty value is ignored, as in
// 1.x. Booleans take strconv.ParseBool's forms and integers
// strconv.ParseInt's with base prefixes; lists (ciphers,
// access-log-status-filters) take a comma-separated value, and NAME_0,
// NAME_1, ... replace or append single elements. Variables that name no
// setting are ignored: the INFLUXDB_ namespace is shared with other tools
// (the Docker image's INFLUXDB_DB, INFLUXDB_ADMIN_USER, ...).
//
// Every problem is an *Error naming its variable; ApplyEnv applies every
// valid override even when others fail, and does not call Validate.
func (c *Config) ApplyEnv(environ []string) error {
	_, err := applyEnv(c, newSchema(), environ)
	return err
}

// envBase is the variable name of a field without its prefix.
func envBase(f *field) string {
	name := f.key
	if f.section != "" {
		name = f.section + "_" + f.key
	}
	return strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// applyEnv applies the overrides and reports, by field index, which
// variable set each field.
func applyEnv(c *Config, s schema, environ []string) (map[int]string, error) {
	env := make(map[string]string)
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if ok && (strings.HasPrefix(k, envPrefixInflux) || strings.HasPrefix(k, envPrefixStrata)) {
			env[k] = strings.TrimSpace(v)
		}
	}
	applied := make(map[int]string)
	if len(env) == 0 {
		return applied, nil
	}
	var errs []error
	for i := range s {
		f := &s[i]
		base := envBase(f)
		if p, ok := f.ptr(c).(*[]string); ok {
			for _, prefix := range [...]string{envPrefixInflux, envPrefixStrata} {
				name, err := applyEnvList(p, prefix+base, env)
				if err != nil {
					errs = append(errs, &Error{Env: name, Section: f.section, Key: f.key, Err: err})
				} else if name != "" {
					applied[i] = name
				}
			}
			continue
		}
		name := envPrefixStrata + base
		val := env[name]
		if val == "" {
			name = envPrefixInflux + base
			val = env[name]
		}
		if val == "" {
			continue
		}
		if err := setText(f, c, val); err != nil {
			errs = append(errs, &Error{Env: name, Section: f.section, Key: f.key, Err: err})
			continue
		}
		applied[i] = name
	}
	return applied, errors.Join(errs...)
}

// applyEnvList applies NAME (a comma-separated list that replaces the
// whole list) and then NAME_0, NAME_1, ... (which replace the element at
// that index, or append when the index is the list's length). It returns
// the variable it applied last, or the one that failed.
func applyEnvList(p *[]string, name string, env map[string]string) (string, error) {
	cur := cloneStrings(*p)
	applied := ""
	if v := env[name]; v != "" {
		cur = cur[:0:0]
		for _, item := range strings.Split(v, ",") {
			if item = strings.TrimSpace(item); item != "" {
				cur = append(cur, item)
			}
		}
		applied = name
	}
	start := len(cur)
	for i := 0; ; i++ {
		iname := name + "_" + strconv.Itoa(i)
		v := env[iname]
		if v == "" {
			if i >= len(cur) {
				break
			}
			continue
		}
		if i >= start+maxEnvListGrowth {
			return iname, fmt.Errorf("%w: a list may grow by at most %d elements from the environment",
				ErrInvalidValue, maxEnvListGrowth)
		}
		if i < len(cur) {
			cur[i] = v
		} else {
			cur = append(cur, v)
		}
		applied = iname
	}
	if applied != "" {
		*p = cur
	}
	return applied, nil
}

// setText converts an environment value to the field's type.
func setText(f *field, c *Config, v string) error {
	switch p := f.ptr(c).(type) {
	case *bool:
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("%w %q: want true or false", ErrInvalidValue, v)
		}
		*p = b
	case *int:
		n, err := strconv.ParseInt(v, 0, 64)
		if err != nil || n < math.MinInt || n > math.MaxInt {
			return fmt.Errorf("%w %q: want an integer", ErrInvalidValue, v)
		}
		*p = int(n)
	case *string:
		*p = v
	case *Duration:
		if f.nanos {
			// 1.x read these as time.Duration: an integer is nanoseconds.
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				*p = Duration(time.Duration(n))
				return nil
			}
		}
		return p.UnmarshalText([]byte(v))
	case *Size:
		return p.UnmarshalText([]byte(v))
	default:
		panic(fmt.Sprintf("BUG: config field %s.%s has unsupported type %T for the environment", f.section, f.key, p))
	}
	return nil
}
