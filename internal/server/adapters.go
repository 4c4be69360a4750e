package server

import (
	"context"
	"time"

	"github.com/stratadb/strata/internal/coordinator"
	"github.com/stratadb/strata/internal/httpd"
	"github.com/stratadb/strata/internal/meta"
	"github.com/stratadb/strata/internal/models"
	"github.com/stratadb/strata/internal/query"
)

// metaClient gives the points writer the meta reads it declares.
type metaClient struct{ s *meta.Store }

func (m metaClient) Database(name string) *meta.DatabaseInfo { return m.s.Database(name) }

func (m metaClient) CreateShardGroupIfNotExists(db, rp string, t time.Time) (*meta.ShardGroupInfo, error) {
	return m.s.CreateShardGroupIfNotExists(db, rp, t)
}

func (m metaClient) ShardExists(id uint64) bool {
	_, _, sg := m.s.Data().ShardOwner(id)
	return sg != nil && !sg.Deleted()
}

// pointsWriter adapts the coordinator to the HTTP handler's interface.
type pointsWriter struct{ w *coordinator.PointsWriter }

func (p pointsWriter) WritePoints(ctx context.Context, db, rp string, _ httpd.Consistency, _ query.User, points []models.Point) error {
	// A single node holds the only replica of every shard: each consistency
	// level is met once the local write is durable.
	return p.w.WritePoints(ctx, db, rp, points)
}

// userStore authenticates against meta's users.
type userStore struct{ s *meta.Store }

func (u userStore) Authenticate(name, password string) (query.User, error) {
	ui, err := u.s.Authenticate(name, password)
	if err != nil {
		return nil, err
	}
	return user{ui}, nil
}

func (u userStore) LookupUser(name string) (query.User, error) {
	ui := u.s.Data().User(name)
	if ui == nil {
		return nil, meta.ErrUserNotFound
	}
	return user{ui}, nil
}

func (u userStore) AdminUserExists() bool { return u.s.Data().AdminUserExists() }

// user is a meta user seen as the query layer's User.
type user struct{ ui *meta.UserInfo }

func (u user) Name() string  { return u.ui.Name }
func (u user) IsAdmin() bool { return u.ui.Admin }
func (u user) CanRead(db string) bool {
	return u.ui.AuthorizeDatabase(meta.ReadPrivilege, db)
}
func (u user) CanWrite(db string) bool {
	return u.ui.AuthorizeDatabase(meta.WritePrivilege, db)
}
