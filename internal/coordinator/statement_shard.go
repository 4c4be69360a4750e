package coordinator

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/influxdata/influxql"

	"github.com/stratadb/strata/internal/meta"
	"github.com/stratadb/strata/internal/query"
)

// showShards lists the shards of live shard groups, one series per
// database (a database without shards still gets its empty series), as
// 1.x does. expiry_time is when retention will drop the group: its end
// plus the policy's duration (the end itself for infinite policies).
func (e *StatementExecutor) showShards() []*query.Row {
	data := e.Meta.Data()
	rows := make([]*query.Row, 0, len(data.Databases))
	for i := range data.Databases {
		di := &data.Databases[i]
		row := &query.Row{
			Name:    di.Name,
			Columns: []string{"id", "database", "retention_policy", "shard_group", "start_time", "end_time", "expiry_time", "owners"},
		}
		for j := range di.RetentionPolicies {
			rp := &di.RetentionPolicies[j]
			for k := range rp.ShardGroups {
				sg := &rp.ShardGroups[k]
				if sg.Deleted() {
					continue
				}
				for _, sh := range sg.Shards {
					row.Values = append(row.Values, []any{
						sh.ID,
						di.Name,
						rp.Name,
						sg.ID,
						formatTime(sg.StartTime),
						formatTime(sg.EndTime),
						formatTime(sg.EndTime.Add(rp.Duration)),
						joinIDs(sh.Owners),
					})
				}
			}
		}
		rows = append(rows, row)
	}
	return rows
}

// showShardGroups lists the live shard groups of every database in one
// series named "shard groups".
func (e *StatementExecutor) showShardGroups() []*query.Row {
	data := e.Meta.Data()
	row := &query.Row{
		Name:    "shard groups",
		Columns: []string{"id", "database", "retention_policy", "start_time", "end_time", "expiry_time"},
	}
	for i := range data.Databases {
		di := &data.Databases[i]
		for j := range di.RetentionPolicies {
			rp := &di.RetentionPolicies[j]
			for k := range rp.ShardGroups {
				sg := &rp.ShardGroups[k]
				if sg.Deleted() {
					continue
				}
				row.Values = append(row.Values, []any{
					sg.ID,
					di.Name,
					rp.Name,
					formatTime(sg.StartTime),
					formatTime(sg.EndTime),
					formatTime(sg.EndTime.Add(rp.Duration)),
				})
			}
		}
	}
	return []*query.Row{row}
}

// dropShard removes the shard from meta (its group is marked deleted once
// it has no shard left), then its files. An unknown shard is not an error
// (1.x), so the statement can be repeated.
func (e *StatementExecutor) dropShard(s *influxql.DropShardStatement) error {
	now := e.now()
	if err := e.Meta.Apply(func(d *meta.Data) error { return d.DropShardAt(s.ID, now) }); err != nil {
		return err
	}
	if err := e.Store.DeleteShard(s.ID); err != nil {
		return fmt.Errorf("remove files of shard %d: %w", s.ID, err)
	}
	return nil
}

// formatTime prints a shard-group boundary as 1.x does: RFC 3339 in UTC,
// to the second.
func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// joinIDs prints shard owners as 1.x does: node ids joined by commas, ""
// for none (always so on a single node).
func joinIDs(ids []uint64) string {
	var b strings.Builder
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatUint(id, 10))
	}
	return b.String()
}
