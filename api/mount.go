package api

import (
	"path/filepath"
	"time"

	"github.com/tsgate/tsgate/acl"
	"github.com/tsgate/tsgate/catalog"
	"github.com/tsgate/tsgate/tsdb"
)

// Deps are the stores the management API works on.
type Deps struct {
	ACL     *acl.ACL
	Catalog *catalog.Catalog
	DB      *tsdb.DB
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// BackupDir is where POST /admin/backup may write; "" means <data>/../tsgate-backups.
	BackupDir string
	// Version is the tsgate version recorded in backup manifests.
	Version string
	// DeleteSeries deletes an object's values and everything derived from them (rollups);
	// nil means DB.DeleteObject.
	DeleteSeries func(id uint32) error
}

// Mount registers the BBData management endpoints (sessions, apikeys, …) into s and makes s
// authenticate protected routes against d.ACL. Call it once, before Serve.
func Mount(s *Server, d Deps) {
	now := d.Now
	if now == nil {
		now = time.Now
	}
	s.opts.Authenticator = KeyAuth{ACL: d.ACL}
	(&sessions{acl: d.ACL, limiter: newLoginLimiter(now), now: now}).register(s.router)
	(&catalogRoutes{cat: d.Catalog, acl: d.ACL}).register(s.router)
	(&users{acl: d.ACL}).register(s.router)
	if d.DeleteSeries == nil {
		d.DeleteSeries = d.DB.DeleteObject
	}
	objs := &objects{acl: d.ACL, cat: d.Catalog, db: d.DB, deleteSeries: d.DeleteSeries, now: now}
	objs.register(s.router)
	objs.registerGroups(s.router)
	(&extensions{acl: d.ACL, cat: d.Catalog, objs: objs, now: now}).register(s.router)
	backupDir := d.BackupDir
	if backupDir == "" {
		backupDir = filepath.Join(filepath.Dir(filepath.Clean(d.DB.Dir())), "tsgate-backups")
	}
	(&admin{d: d, backupDir: backupDir, version: d.Version}).register(s.router)
}
