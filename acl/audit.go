package acl

import (
	"encoding/binary"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// AuditTarget names what an audited action touched (API.md §3.7).
type AuditTarget struct {
	Tenant      uint32 `json:"tenant,omitempty"`
	Principal   uint32 `json:"principal,omitempty"`
	UserGroup   uint32 `json:"userGroup,omitempty"`
	ObjectGroup uint32 `json:"objectGroup,omitempty"`
	Object      uint32 `json:"object,omitempty"`
	Token       uint32 `json:"token,omitempty"`
	Apikey      uint32 `json:"apikey,omitempty"`
	Route       string `json:"route,omitempty"`
}

// AuditEntry is one audit record. Stored under 'u' (docs/format/acl.md):
// key `u <time BE64 ns> <id BE64>`, value version byte + JSON.
type AuditEntry struct {
	ID     uint64      `json:"id"`
	Time   time.Time   `json:"time"`
	Tenant uint32      `json:"tenant"`
	Actor  uint32      `json:"actor"`
	Action string      `json:"action"`
	Target AuditTarget `json:"target"`
	Status int         `json:"status,omitempty"`
	Count  int         `json:"count,omitempty"` // denied requests folded into one record
}

const auditPrefix = 'u'

func auditKey(t time.Time, id uint64) []byte {
	k := []byte{auditPrefix}
	k = binary.BigEndian.AppendUint64(k, uint64(t.UnixNano()))
	return binary.BigEndian.AppendUint64(k, id)
}

type auditLog struct {
	mu     sync.Mutex
	db     *pebble.DB
	nextID uint64
	// denied: the last record per (principal, route), for the once-a-second rule:
	// requests denied within a second of it are folded into its count.
	denied map[string]*AuditEntry
}

func (l *auditLog) init(db *pebble.DB) error {
	l.db = db
	l.denied = map[string]*AuditEntry{}
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: []byte{auditPrefix}, UpperBound: []byte{auditPrefix + 1}})
	if err != nil {
		return err
	}
	defer it.Close()
	// Ids grow with time: the newest entries hold the largest (a backwards clock
	// step is covered by looking at the last 1000, not the whole log).
	var max uint64
	n := 0
	for it.Last(); it.Valid() && n < 1000; it.Prev() {
		if k := it.Key(); len(k) == 17 {
			max = max0(max, binary.BigEndian.Uint64(k[9:]))
		}
		n++
	}
	l.nextID = max + 1
	return it.Error()
}

func max0(a, b uint64) uint64 {
	if a > b {
		return a
	}
	return b
}

func (tx *txn) auditf(tenant, actor uint32, action string, target AuditTarget) {
	tx.audit = append(tx.audit, AuditEntry{Time: tx.now.UTC(), Tenant: tenant, Actor: actor, Action: action, Target: target})
}

func (l *auditLog) stage(b *pebble.Batch, entries []AuditEntry) error {
	if len(entries) == 0 {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := range entries {
		entries[i].ID = l.nextID
		l.nextID++
		if err := b.Set(auditKey(entries[i].Time, entries[i].ID), encode(&entries[i]), nil); err != nil {
			return err
		}
	}
	return nil
}

// RecordDenied records a denied request (401, 403, or 404 for a hidden thing) at
// most once a second per (principal, route), with a count of the ones folded in.
func (a *ACL) RecordDenied(tenant, principal uint32, route string, object uint32, status int) error {
	l := &a.audit
	now := a.now().UTC()
	k := fmt.Sprintf("%d %s", principal, route)
	l.mu.Lock() // held across the (NoSync) write so folded counts land in order
	defer l.mu.Unlock()
	if last, ok := l.denied[k]; ok && now.Sub(last.Time) < time.Second {
		last.Count++
		return a.db.Set(auditKey(last.Time, last.ID), encode(last), pebble.NoSync)
	}
	e := &AuditEntry{ID: l.nextID, Time: now, Tenant: tenant, Actor: principal, Action: "denied",
		Target: AuditTarget{Route: route, Object: object}, Status: status, Count: 1}
	l.nextID++
	l.denied[k] = e
	return a.db.Set(auditKey(e.Time, e.ID), encode(e), pebble.NoSync)
}

// AuditQuery filters Audit; zero fields are no filter. Tenant 0 = all tenants.
type AuditQuery struct {
	From, To  time.Time // inclusive
	Tenant    uint32
	Principal uint32 // actor
	Page      int
	Size      int // default 100
}

// Audit returns entries newest first.
func (a *ACL) Audit(q AuditQuery) ([]AuditEntry, error) {
	if q.Size == 0 {
		q.Size = 100
	}
	if q.Size < 0 || q.Size > 1000 {
		return nil, invalidField("size", "size must be between 1 and 1000")
	}
	lo := []byte{auditPrefix}
	hi := []byte{auditPrefix + 1}
	if !q.From.IsZero() {
		lo = auditKey(q.From, 0)
	}
	if !q.To.IsZero() {
		hi = auditKey(q.To.Add(1), 0)
	}
	it, err := a.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	skip := q.Page * q.Size
	var out []AuditEntry
	for it.Last(); it.Valid() && len(out) < q.Size; it.Prev() {
		var e AuditEntry
		if err := decode(it.Key(), it.Value(), &e); err != nil {
			return nil, err
		}
		if (q.Tenant != 0 && e.Tenant != q.Tenant) || (q.Principal != 0 && e.Actor != q.Principal) {
			continue
		}
		if skip > 0 {
			skip--
			continue
		}
		out = append(out, e)
	}
	return slices.Clip(out), it.Error()
}

// auditNow writes entries on their own (when the change they record was committed
// by another package without a hook that knows the new id).
func (a *ACL) auditNow(entries ...AuditEntry) error {
	b := a.db.NewBatch()
	defer b.Close()
	if err := a.audit.stage(b, entries); err != nil {
		return err
	}
	return b.Commit(pebble.Sync)
}

// PurgeAudit deletes audit entries older than before (--audit-retention).
func (a *ACL) PurgeAudit(before time.Time) error {
	if err := a.db.DeleteRange([]byte{auditPrefix}, auditKey(before, 0), pebble.Sync); err != nil {
		return fmt.Errorf("acl: cannot purge the audit log before %s: %w", before.UTC().Format(time.RFC3339), err)
	}
	return nil
}
