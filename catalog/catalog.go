package catalog

import (
	"encoding/binary"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

var syncWrite = pebble.Sync

// Options configures a Catalog. The zero value works.
type Options struct {
	// Logger receives nothing on the hot path; nil discards.
	Logger *slog.Logger
	// Now is the clock (record times of versions); nil means time.Now.
	Now func() time.Time
}

// Catalog holds units, objects, object groups and comments.
type Catalog struct {
	db      *pebble.DB
	log     *slog.Logger
	now     func() time.Time
	version atomic.Uint64

	// lists caches each group's current members as a slice (rebuilt for groups
	// marked dirty): ScanGroups serves the views' rebuilds from it.
	lists struct {
		sync.Mutex
		m     map[uint32][]uint32
		dirty map[uint32]bool
	}

	mu struct {
		sync.RWMutex
		units   map[string]Unit
		objects []*Object // index = id; nil for deleted/unallocated; index 0 unused
		groups  map[uint32]*ObjectGroup
		// members[group][object] = membership intervals (history included)
		members map[uint32]map[uint32][]Interval
		// groupsOf[object] = groups it is currently in
		groupsOf map[uint32]map[uint32]struct{}
		comments map[uint32][]Comment // by object
		nextObj  uint32
		nextGrp  uint32
		nextCmt  uint32
		lastRec  int64 // last record time handed out (ns), strictly increasing
	}
}

// Open loads the catalog from db, creating the default unit table the first time
// (idempotent: units already present are left as they are).
func Open(db *pebble.DB, opts Options) (*Catalog, error) {
	c := &Catalog{db: db, log: opts.Logger, now: opts.Now}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.now == nil {
		c.now = time.Now
	}
	c.mu.units = map[string]Unit{}
	c.mu.objects = []*Object{nil}
	c.mu.groups = map[uint32]*ObjectGroup{}
	c.mu.members = map[uint32]map[uint32][]Interval{}
	c.mu.groupsOf = map[uint32]map[uint32]struct{}{}
	c.mu.comments = map[uint32][]Comment{}
	c.lists.m = map[uint32][]uint32{}
	c.lists.dirty = map[uint32]bool{}
	if err := c.load(); err != nil {
		return nil, err
	}
	if err := c.ensureUnits(); err != nil {
		return nil, err
	}
	c.version.Store(1)
	return c, nil
}

// EnsureUnits creates the units of DefaultUnits that are missing. Open calls it.
func (c *Catalog) ensureUnits() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	b := c.db.NewBatch()
	defer b.Close()
	for _, u := range DefaultUnits {
		if _, ok := c.mu.units[u.Symbol]; ok {
			continue
		}
		if err := b.Set(unitKey(u.Symbol), encode(u), nil); err != nil {
			return err
		}
		c.mu.units[u.Symbol] = u
	}
	if b.Empty() {
		return nil
	}
	if err := b.Commit(syncWrite); err != nil {
		return fmt.Errorf("catalog: cannot store the unit table: %w", err)
	}
	return nil
}

// Version grows after every committed change that can alter authorization
// (objects created or deleted, owner, enabled and public state, group membership).
func (c *Catalog) Version() uint64 { return c.version.Load() }

func (c *Catalog) load() error {
	it, err := c.db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefix}, UpperBound: []byte{prefix + 1}})
	if err != nil {
		return fmt.Errorf("catalog: cannot read the store: %w", err)
	}
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		k, v := it.Key(), it.Value()
		if len(k) < 2 {
			continue
		}
		if k[1] == kindHistory {
			// versions are read on demand (as-of); skip the whole range
			if !it.SeekGE([]byte{prefix, kindHistory + 1}) {
				break
			}
			k, v = it.Key(), it.Value()
		}
		switch k[1] {
		case kindUnit:
			var u Unit
			if err := decode(k, v, &u); err != nil {
				return err
			}
			c.mu.units[u.Symbol] = u
		case kindObject:
			o := new(Object)
			if err := decodeObject(k, v, o); err != nil {
				return err
			}
			for uint32(len(c.mu.objects)) <= o.ID {
				c.mu.objects = append(c.mu.objects, nil)
			}
			c.mu.objects[o.ID] = o
		case kindGroup:
			g := new(ObjectGroup)
			if err := decode(k, v, g); err != nil {
				return err
			}
			c.mu.groups[g.ID] = g
		case kindMember:
			if len(k) != 10 {
				return fmt.Errorf("catalog: bad membership key %q", k)
			}
			gid, oid := binary.BigEndian.Uint32(k[2:]), binary.BigEndian.Uint32(k[6:])
			ivs, err := decodeIntervals(k, v)
			if err != nil {
				return err
			}
			c.setMembershipLocked(gid, oid, ivs)
		case kindComment:
			var cm Comment
			if err := decode(k, v, &cm); err != nil {
				return err
			}
			c.mu.comments[cm.ObjectID] = append(c.mu.comments[cm.ObjectID], cm)
		case kindCounter:
			if len(v) != 8 {
				return fmt.Errorf("catalog: bad counter %q", k)
			}
			n := uint32(binary.BigEndian.Uint64(v))
			switch string(k[2:]) {
			case "object":
				c.mu.nextObj = n
			case "group":
				c.mu.nextGrp = n
			case "comment":
				c.mu.nextCmt = n
			}
		}
	}
	if err := it.Error(); err != nil {
		return fmt.Errorf("catalog: cannot read the store: %w", err)
	}
	if c.mu.nextObj == 0 {
		c.mu.nextObj = 1
	}
	if c.mu.nextGrp == 0 {
		c.mu.nextGrp = 1
	}
	if c.mu.nextCmt == 0 {
		c.mu.nextCmt = 1
	}
	for uint32(len(c.mu.objects)) < c.mu.nextObj {
		c.mu.objects = append(c.mu.objects, nil)
	}
	return nil
}

// recordTimeLocked returns a record time strictly after the previous one, so two
// versions of one object never share a key.
func (c *Catalog) recordTimeLocked() time.Time {
	t := c.now().UTC().UnixNano()
	if t <= c.mu.lastRec {
		t = c.mu.lastRec + 1
	}
	c.mu.lastRec = t
	return time.Unix(0, t).UTC()
}

func setCounter(b *pebble.Batch, name string, next uint32) error {
	return b.Set(counterKey(name), binary.BigEndian.AppendUint64(nil, uint64(next)), nil)
}
