package ingest

import (
	"sync"
	"time"

	"github.com/tsgate/tsgate/acl"
	"github.com/tsgate/tsgate/api"
)

// retentions caches each tenant's retention (API.md §4: values older than it are refused at
// ingest with 400), rebuilt when the acl's version moves.
type retentions struct {
	acl *acl.ACL
	mu  sync.Mutex
	ver uint64
	m   map[uint32]time.Duration
}

// of returns tenant's retention, 0 for unlimited.
func (r *retentions) of(tenant uint32) time.Duration {
	v := r.acl.Version()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil || r.ver != v {
		r.m = map[uint32]time.Duration{}
		r.ver = v
	}
	d, ok := r.m[tenant]
	if !ok {
		if t, err := r.acl.Tenant(tenant); err == nil && t.Retention != "" {
			d, _ = api.ParseDuration(t.Retention)
		}
		r.m[tenant] = d
	}
	return d
}

// tooOld reports whether ts (ms) is older than the retention of tenant at now (ms), and the
// retention's text.
func (r *retentions) tooOld(tenant uint32, ts, now int64) (bool, time.Duration) {
	d := r.of(tenant)
	return d > 0 && ts < now-d.Milliseconds(), d
}
