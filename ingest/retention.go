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

// retentionCheck answers "is this timestamp older than its tenant's retention" for one request,
// asking the shared cache (a lock and a map) only when the tenant changes from one measure to
// the next instead of once per measure.
type retentionCheck struct {
	r      *retentions
	now    int64
	tenant uint32
	known  bool
	d      time.Duration
}

func (r *retentions) forRequest(now int64) retentionCheck { return retentionCheck{r: r, now: now} }

// tooOld reports whether ts (ms) is older than tenant's retention, and the retention.
func (c *retentionCheck) tooOld(tenant uint32, ts int64) (bool, time.Duration) {
	if !c.known || c.tenant != tenant {
		c.tenant, c.d, c.known = tenant, c.r.of(tenant), true
	}
	return c.d > 0 && ts < c.now-c.d.Milliseconds(), c.d
}
