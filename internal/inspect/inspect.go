// Package inspect is the offline tooling behind `strata inspect`: it reads
// the directories of a stopped server to verify, dump, report on and export
// what is stored.
package inspect

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/stratadb/strata/internal/models"
	"github.com/stratadb/strata/internal/storage/engine"
	"github.com/stratadb/strata/internal/storage/index"
	"github.com/stratadb/strata/internal/storage/tsm"
	"github.com/stratadb/strata/internal/storage/wal"
	"github.com/stratadb/strata/internal/vfs"
)

// Problem is one damaged file found by Verify.
type Problem struct {
	Path string
	Err  error
}

// Verify checks every data file (header, index, every block's CRC),
// every tombstone file, and every WAL segment's records under dataDir and
// walDir, without changing anything. It writes one line per file checked to
// w and returns the problems found.
func Verify(w io.Writer, dataDir, walDir string) ([]Problem, error) {
	var problems []Problem
	check := func(path string, err error) {
		if err != nil {
			problems = append(problems, Problem{Path: path, Err: err})
			fmt.Fprintf(w, "%s: FAILED: %v\n", path, err)
			return
		}
		fmt.Fprintf(w, "%s: healthy\n", path)
	}
	err := filepath.WalkDir(dataDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(path, ".tsm") {
			check(path, tsm.Verify(vfs.Default, path))
		}
		return nil
	})
	if err != nil {
		return problems, err
	}
	if walDir == "" {
		return problems, nil
	}
	err = filepath.WalkDir(walDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(path, ".wal") {
			check(path, wal.VerifySegment(vfs.Default, path))
		}
		return nil
	})
	return problems, err
}

// Dump writes a data file's index and block summaries.
func Dump(w io.Writer, path string) error {
	r, err := tsm.Open(vfs.Default, path)
	if err != nil {
		return err
	}
	defer r.Close()
	return tsm.Dump(w, r)
}

// shardDir is one shard found on disk.
type shardDir struct {
	db, rp string
	id     uint64
	dir    string
	walDir string
}

func findShards(dataDir, walDir, onlyDB, onlyRP string) ([]shardDir, error) {
	var out []shardDir
	dbs, err := os.ReadDir(dataDir)
	if err != nil {
		return nil, err
	}
	for _, db := range dbs {
		if !db.IsDir() || onlyDB != "" && db.Name() != onlyDB {
			continue
		}
		rps, err := os.ReadDir(filepath.Join(dataDir, db.Name()))
		if err != nil {
			return nil, err
		}
		for _, rp := range rps {
			if !rp.IsDir() || rp.Name() == "_series" || onlyRP != "" && rp.Name() != onlyRP {
				continue
			}
			ids, err := os.ReadDir(filepath.Join(dataDir, db.Name(), rp.Name()))
			if err != nil {
				return nil, err
			}
			for _, id := range ids {
				n, err := strconv.ParseUint(id.Name(), 10, 64)
				if err != nil || !id.IsDir() {
					continue
				}
				out = append(out, shardDir{
					db: db.Name(), rp: rp.Name(), id: n,
					dir:    filepath.Join(dataDir, db.Name(), rp.Name(), id.Name()),
					walDir: filepath.Join(walDir, db.Name(), rp.Name(), id.Name()),
				})
			}
		}
	}
	slices.SortFunc(out, func(a, b shardDir) int {
		return strings.Compare(fmt.Sprintf("%s/%s/%020d", a.db, a.rp, a.id), fmt.Sprintf("%s/%s/%020d", b.db, b.rp, b.id))
	})
	return out, nil
}

// openedDB is a database's index with the shards opened on it.
type openedDB struct {
	idx    *index.Index
	shards []*engine.Shard
}

// openShards opens the shards (replaying their WALs into memory) with one
// index per database; close releases everything.
func openShards(dataDir string, shards []shardDir, logger *slog.Logger) (map[string]*openedDB, func() error, error) {
	dbs := map[string]*openedDB{}
	closeAll := func() error {
		var errs []error
		for _, d := range dbs {
			for _, sh := range d.shards {
				errs = append(errs, sh.Close())
			}
			errs = append(errs, d.idx.Close())
		}
		return errors.Join(errs...)
	}
	for _, s := range shards {
		d := dbs[s.db]
		if d == nil {
			idx, err := index.Open(vfs.Default, filepath.Join(dataDir, s.db, "_series"), index.Options{Logger: logger})
			if err != nil {
				closeAll()
				return nil, nil, err
			}
			d = &openedDB{idx: idx}
			dbs[s.db] = d
		}
		sh, err := engine.OpenShard(vfs.Default, s.id, s.db, s.rp, s.dir, s.walDir, d.idx, engine.Options{Logger: logger})
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		d.shards = append(d.shards, sh)
	}
	return dbs, closeAll, nil
}

// ExportOptions select what Export writes.
type ExportOptions struct {
	Database, RetentionPolicy string
	Start, End                int64 // ns, inclusive
	Logger                    *slog.Logger
}

// Export writes the stored points as line protocol, with the DDL and DML
// context lines 1.x's export writes (# DML, # CONTEXT-DATABASE: …), so that
// `influx -import` can load it.
func Export(w io.Writer, dataDir, walDir string, opts ExportOptions) error {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.End == 0 {
		opts.End = models.MaxNanoTime
	}
	if opts.Start == 0 {
		opts.Start = models.MinNanoTime
	}
	shards, err := findShards(dataDir, walDir, opts.Database, opts.RetentionPolicy)
	if err != nil {
		return err
	}
	dbs, closeAll, err := openShards(dataDir, shards, opts.Logger)
	if err != nil {
		return err
	}
	defer closeAll()
	bw := bufio.NewWriterSize(w, 1<<20)
	fmt.Fprintln(bw, "# DML")
	for _, s := range shards {
		d := dbs[s.db]
		var sh *engine.Shard
		for _, x := range d.shards {
			if x.ID() == s.id {
				sh = x
			}
		}
		fmt.Fprintf(bw, "# CONTEXT-DATABASE:%s\n# CONTEXT-RETENTION-POLICY:%s\n", s.db, s.rp)
		if err := exportShard(bw, sh, opts.Start, opts.End); err != nil {
			return fmt.Errorf("export shard %d: %w", s.id, err)
		}
	}
	return bw.Flush()
}

// exportShard writes one line per series, field and timestamp.
func exportShard(w *bufio.Writer, sh *engine.Shard, start, end int64) error {
	idx := sh.Index()
	ids := sh.SeriesIDs()
	it := ids.Iterator()
	var line []byte
	for it.HasNext() {
		id := uint64(it.Next())
		key := idx.SeriesKey(id)
		if key == nil {
			continue
		}
		m := models.MeasurementFromSeriesKey(key)
		fields := sh.Fields().Fields(string(m))
		names := make([]string, 0, len(fields))
		for f := range fields {
			names = append(names, f)
		}
		slices.Sort(names)
		for _, f := range names {
			err := forEachValue(sh, key, id, f, fields[f], start, end, func(t int64, v models.Field) {
				line = append(line[:0], key...)
				line = append(line, ' ')
				line = models.AppendTagPart(line, []byte(f))
				line = append(line, '=')
				line = v.AppendValue(line)
				line = append(line, ' ')
				line = strconv.AppendInt(line, t, 10)
				line = append(line, '\n')
				w.Write(line)
			})
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// forEachValue calls fn for every value of one field of one series.
func forEachValue(sh *engine.Shard, key []byte, id uint64, field string, typ models.FieldType, start, end int64, fn func(int64, models.Field)) error {
	switch typ {
	case models.Float:
		return eachOf(sh, key, id, field, start, end, func(t int64, v float64) { fn(t, models.FloatField(nil, v)) })
	case models.Integer:
		return eachOf(sh, key, id, field, start, end, func(t int64, v int64) { fn(t, models.IntegerField(nil, v)) })
	case models.Unsigned:
		return eachOf(sh, key, id, field, start, end, func(t int64, v uint64) { fn(t, models.UnsignedField(nil, v)) })
	case models.Boolean:
		return eachOf(sh, key, id, field, start, end, func(t int64, v bool) { fn(t, models.BooleanField(nil, v)) })
	case models.String:
		return eachOf(sh, key, id, field, start, end, func(t int64, v string) { fn(t, models.StringField(nil, []byte(v))) })
	}
	return nil
}

func eachOf[T interface {
	float64 | int64 | uint64 | bool | string
}](sh *engine.Shard, key []byte, id uint64, field string, start, end int64, fn func(int64, T)) error {
	c := engine.NewCursor[T](sh, key, id, field, start, end, true)
	defer c.Close()
	for {
		b, err := c.Next(false)
		if err != nil {
			return err
		}
		if b.Len() == 0 {
			return nil
		}
		for i, t := range b.Times {
			fn(t, b.Values[i])
		}
	}
}

// ReportRow is one shard's line in Report.
type ReportRow struct {
	Database, RetentionPolicy string
	Shard                     uint64
	Series                    uint64
	Points                    int64 // values of every field
	Files                     int
	DiskBytes                 int64
}

// Report counts series and values per shard.
func Report(w io.Writer, dataDir, walDir string, logger *slog.Logger) ([]ReportRow, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	shards, err := findShards(dataDir, walDir, "", "")
	if err != nil {
		return nil, err
	}
	dbs, closeAll, err := openShards(dataDir, shards, logger)
	if err != nil {
		return nil, err
	}
	defer closeAll()
	var rows []ReportRow
	fmt.Fprintf(w, "%-20s %-16s %8s %10s %14s %6s %14s\n", "DB", "RP", "Shard", "Series", "Values", "Files", "DiskBytes")
	for _, s := range shards {
		var sh *engine.Shard
		for _, x := range dbs[s.db].shards {
			if x.ID() == s.id {
				sh = x
			}
		}
		row := ReportRow{Database: s.db, RetentionPolicy: s.rp, Shard: s.id, Series: sh.SeriesIDs().GetCardinality()}
		ids := sh.SeriesIDs().Iterator()
		for ids.HasNext() {
			id := uint64(ids.Next())
			key := sh.Index().SeriesKey(id)
			if key == nil {
				continue
			}
			for f, typ := range sh.Fields().Fields(string(models.MeasurementFromSeriesKey(key))) {
				err := forEachValue(sh, key, id, f, typ, models.MinNanoTime, models.MaxNanoTime, func(int64, models.Field) { row.Points++ })
				if err != nil {
					return nil, err
				}
			}
		}
		entries, _ := os.ReadDir(s.dir)
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), ".tsm") {
				row.Files++
				if fi, err := e.Info(); err == nil {
					row.DiskBytes += fi.Size()
				}
			}
		}
		rows = append(rows, row)
		fmt.Fprintf(w, "%-20s %-16s %8d %10d %14d %6d %14d\n", row.Database, row.RetentionPolicy, row.Shard, row.Series, row.Points, row.Files, row.DiskBytes)
	}
	return rows, nil
}

var _ = context.Background
