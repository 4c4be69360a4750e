package engine

import (
	"maps"
	"strconv"

	"github.com/stratadb/strata/internal/stats"
)

// Statistics reports the shard's statistics under 1.x's measurement and
// field names: shard, tsm1_engine, tsm1_cache, tsm1_filestore (the WAL adds
// tsm1_wal).
func (s *Shard) Statistics(tags map[string]string) []stats.Statistic {
	t := maps.Clone(tags)
	if t == nil {
		t = map[string]string{}
	}
	t["database"] = s.db
	t["retentionPolicy"] = s.rp
	t["id"] = strconv.FormatUint(s.id, 10)
	t["path"] = s.dir
	t["walPath"] = s.walDir
	t["engine"] = "tsm1"

	s.mu.RLock()
	cacheBytes := s.mu.cache.Size()
	snapshotBytes := int64(0)
	for _, p := range s.mu.snapshots {
		snapshotBytes += p.cache.Size()
	}
	var diskBytes int64
	for _, f := range s.mu.files {
		diskBytes += f.r.Size()
	}
	numFiles := len(s.mu.files)
	s.mu.RUnlock()
	walBytes := s.wal.Size()

	st := &s.stats
	return append([]stats.Statistic{
		{Name: "shard", Tags: t, Values: map[string]any{
			"diskBytes":          diskBytes + walBytes,
			"writeReq":           st.writeReq.Load(),
			"writePointsOk":      st.writePointsOK.Load(),
			"writePointsDropped": st.writePointsDropped.Load(),
			"writePointsErr":     st.writePointsErr.Load(),
			"writeValuesOk":      st.writeValuesOK.Load(),
			"seriesCreate":       st.seriesCreate.Load(),
			"numSeries":          int64(s.series.cardinality()),
		}},
		{Name: "tsm1_engine", Tags: t, Values: map[string]any{
			"cacheCompactions":        st.snapshots.Load(),
			"cacheCompactionErr":      st.snapshotErrors.Load(),
			"tsmLevel2Compactions":    st.compactions[0].Load(),
			"tsmLevel3Compactions":    st.compactions[1].Load(),
			"tsmFullCompactions":      st.compactions[2].Load() + st.compactions[3].Load(),
			"tsmCompactionErr":        st.compactionErrors.Load(),
			"tsmCompactionDurationNs": st.compactionDuration.Load(),
		}},
		{Name: "tsm1_cache", Tags: t, Values: map[string]any{
			"memBytes":      cacheBytes + snapshotBytes,
			"cachedBytes":   cacheBytes,
			"snapshotCount": st.snapshots.Load(),
			"writeBlocked":  st.cacheFullWaits.Load(),
		}},
		{Name: "tsm1_filestore", Tags: t, Values: map[string]any{
			"diskBytes": diskBytes,
			"numFiles":  int64(numFiles),
		}},
	}, s.wal.Statistics(t)...)
}
