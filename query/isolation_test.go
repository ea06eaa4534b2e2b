package query_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/tsgate/tsgate/api"
	"github.com/tsgate/tsgate/server/servertest"
	"github.com/tsgate/tsgate/tsdb"
)

// isoWorld is the brute-force model of the isolation test: who reads what, through which
// windows, and every stored sample.
type isoWorld struct {
	users   []*servertest.Client
	groups  []uint32            // user i's own group is groups[i]
	member  map[int][]uint32    // user index → user groups it belongs to
	objects []uint32            // ids
	isInt   map[uint32]bool     // object → int (else float)
	owner   map[uint32]uint32   // object → owner group
	ogs     map[uint32][]uint32 // object group → members
	shares  []isoShare
	samples map[uint32][]isoSample // object → ascending samples
}

type isoShare struct {
	og, ug   uint32
	timed    bool
	from, to int64 // to 0: open
}

type isoSample struct {
	ts   int64
	text string
	v    float64
}

// access: full, or the windows of the shares that reach the object.
func (w *isoWorld) access(u int, oid uint32) (full bool, wins [][2]int64) {
	groups := w.member[u]
	if slices.Contains(groups, w.owner[oid]) {
		return true, nil
	}
	for _, s := range w.shares {
		if !slices.Contains(groups, s.ug) || !slices.Contains(w.ogs[s.og], oid) {
			continue
		}
		if !s.timed {
			return true, nil
		}
		wins = append(wins, [2]int64{s.from, s.to})
	}
	return false, wins
}

func (w *isoWorld) visible(u int, oid uint32, ts int64) bool {
	full, wins := w.access(u, oid)
	if full {
		return true
	}
	for _, win := range wins {
		if ts >= win[0] && (win[1] == 0 || ts < win[1]) {
			return true
		}
	}
	return false
}

func (w *isoWorld) readable(u int, oid uint32) bool {
	full, wins := w.access(u, oid)
	return full || len(wins) > 0
}

// rawRows is the model's answer to a raw query of every object over [from, to].
func (w *isoWorld) rawRows(u int, from, to int64) []string {
	var out []string
	for _, oid := range w.objects {
		if !w.readable(u, oid) {
			continue
		}
		for _, s := range w.samples[oid] {
			if s.ts >= from && s.ts <= to && w.visible(u, oid, s.ts) {
				out = append(out, fmt.Sprintf("%d %s %s", oid, api.AppendDateTime(nil, s.ts), s.text))
			}
		}
	}
	return out
}

// hourRows is the model's answer to an hours query with fields count, min, max.
func (w *isoWorld) hourRows(u int, from, to int64) []string {
	var out []string
	const hour = 3600_000
	for _, oid := range w.objects {
		if !w.readable(u, oid) {
			continue
		}
		type acc struct {
			n        int
			min, max float64
			minT     string
			maxT     string
		}
		var starts []int64
		rows := map[int64]*acc{}
		for _, s := range w.samples[oid] {
			start := s.ts / hour * hour
			if start < from || start > to || !w.visible(u, oid, s.ts) {
				continue
			}
			a := rows[start]
			if a == nil {
				a = &acc{min: s.v, max: s.v, minT: s.text, maxT: s.text}
				rows[start] = a
				starts = append(starts, start)
			}
			a.n++
			if s.v < a.min {
				a.min, a.minT = s.v, s.text
			}
			if s.v > a.max {
				a.max, a.maxT = s.v, s.text
			}
		}
		for _, st := range starts {
			a := rows[st]
			out = append(out, fmt.Sprintf("%d %s n=%d min=%s max=%s", oid, api.AppendDateTime(nil, st), a.n, a.minT, a.maxT))
		}
	}
	return out
}

// TestIsolationProperty: a random world (users, groups, memberships, objects, object groups,
// untimed and windowed shares) and random data; for every user's key and random ranges, the
// rows of /query (raw and hours), values and latest equal the brute-force model's —
// 0 leaked, 0 missing.
func TestIsolationProperty(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 7))
	nd := servertest.Start(t)
	admin := nd.Admin
	now := time.Now().UTC()
	t0 := now.Add(-3 * time.Hour).Truncate(time.Hour).UnixMilli()
	w := &isoWorld{member: map[int][]uint32{}, isInt: map[uint32]bool{}, owner: map[uint32]uint32{},
		ogs: map[uint32][]uint32{}, samples: map[uint32][]isoSample{}}
	const nUsers, nObjects, nOGs = 4, 12, 4
	for i := range nUsers {
		u := nd.CreateUser(fmt.Sprintf("iso_user_%d", i))
		g := admin.CreateGroup(fmt.Sprintf("iso_group_%d", i))
		admin.Want("PUT", fmt.Sprintf("/userGroups/%d/users/%d", g, u.User), "", 200, "")
		w.users = append(w.users, u)
		w.groups = append(w.groups, g)
		w.member[i] = []uint32{g}
	}
	for i := range nUsers { // extra memberships
		for j := range nUsers {
			if i != j && r.IntN(5) == 0 {
				admin.Want("PUT", fmt.Sprintf("/userGroups/%d/users/%d", w.groups[j], w.users[i].User), "", 200, "")
				w.member[i] = append(w.member[i], w.groups[j])
			}
		}
	}
	var b tsdb.Batch
	for i := range nObjects {
		owner := w.groups[r.IntN(nUsers)]
		unit := "V"
		if r.IntN(3) == 0 {
			unit = "h"
		}
		oid := admin.CreateObject(fmt.Sprintf("iso_object_%d", i), owner, unit)
		w.objects = append(w.objects, oid)
		w.owner[oid], w.isInt[oid] = owner, unit == "h"
		for ts := t0 - 3600_000 + int64(r.IntN(60_000)); ts < t0+6*3600_000; ts += 60_000 + int64(r.IntN(20*60_000)) {
			var s isoSample
			s.ts = ts
			if w.isInt[oid] {
				v := int64(r.IntN(2000) - 1000)
				b.AddInt(oid, ts, v)
				s.v, s.text = float64(v), strconv.FormatInt(v, 10)
			} else {
				v := float64(r.IntN(200000)-100000) / 100
				b.AddFloat(oid, ts, v)
				s.v, s.text = v, string(api.AppendValueFloat(nil, v))
			}
			w.samples[oid] = append(w.samples[oid], s)
		}
	}
	if err := nd.N.Rollups.Append(context.Background(), &b, tsdb.Reject); err != nil {
		t.Fatal(err)
	}
	for i := range nOGs {
		var members []uint32
		for _, oid := range w.objects {
			if r.IntN(3) == 0 {
				members = append(members, oid)
			}
		}
		og := admin.CreateObjectGroup(fmt.Sprintf("iso_og_%d", i), w.groups[r.IntN(nUsers)], members...)
		w.ogs[og] = members
		for _, ug := range w.groups {
			if r.IntN(2) == 0 {
				continue
			}
			s := isoShare{og: og, ug: ug}
			body := ""
			if r.IntN(3) > 0 {
				s.timed = true
				s.from = t0 + int64(r.IntN(3*3600_000)) // ≤ now
				if r.IntN(3) > 0 {
					s.to = now.UnixMilli() + 10*60_000 + int64(r.IntN(3*3600_000)) // after now
				}
				to := "null"
				if s.to != 0 {
					to = strconv.Quote(string(api.AppendDateTime(nil, s.to)))
				}
				body = fmt.Sprintf(`{"from":%q,"to":%s}`, api.AppendDateTime(nil, s.from), to)
			}
			admin.Want("PUT", fmt.Sprintf("/objectGroups/%d/userGroups/%d", og, ug), body, 200, "")
			w.shares = append(w.shares, s)
		}
	}

	var leaked, missing, checked int
	compare := func(what string, got, want []string) {
		t.Helper()
		checked += len(want)
		gs, ws := map[string]bool{}, map[string]bool{}
		for _, g := range got {
			gs[g] = true
		}
		for _, x := range want {
			ws[x] = true
		}
		for _, g := range got {
			if !ws[g] {
				leaked++
				t.Errorf("%s: leaked %s", what, g)
			}
		}
		for _, x := range want {
			if !gs[x] {
				missing++
				t.Errorf("%s: missing %s", what, x)
			}
		}
		if len(got) == len(want) && !slices.Equal(got, want) {
			t.Errorf("%s: order differs", what)
		}
	}
	end := t0 + 6*3600_000
	for ui, c := range w.users {
		for q := range 4 {
			from := t0 - 3600_000 + int64(r.IntN(6*3600_000))
			to := from + int64(r.IntN(5*3600_000))
			if q == 0 {
				from, to = t0-2*3600_000, end
			}
			fs, ts := api.AppendDateTime(nil, from), api.AppendDateTime(nil, to)
			var raw []rawJSON
			c.Want("POST", "/query", fmt.Sprintf(`{"from":%q,"to":%q}`, fs, ts), 200, "").JSON(t, &raw)
			var got []string
			for _, x := range raw {
				got = append(got, fmt.Sprintf("%d %s %s", x.ObjectID, x.Timestamp, x.Value))
			}
			compare(fmt.Sprintf("user %d raw %s..%s", ui, fs, ts), got, w.rawRows(ui, from, to))

			var agg []map[string]json.RawMessage
			c.Want("POST", "/query", fmt.Sprintf(`{"from":%q,"to":%q,"granularity":"hours","fields":["count","min","max"]}`, fs, ts), 200, "").JSON(t, &agg)
			got = got[:0]
			for _, x := range agg {
				var id uint32
				var tstamp string
				_ = json.Unmarshal(x["objectId"], &id)
				_ = json.Unmarshal(x["timestamp"], &tstamp)
				got = append(got, fmt.Sprintf("%d %s n=%s min=%s max=%s", id, tstamp, x["count"], x["min"], x["max"]))
			}
			compare(fmt.Sprintf("user %d hours %s..%s", ui, fs, ts), got, w.hourRows(ui, from, to))
		}
		fs, ts := api.AppendDateTime(nil, t0-2*3600_000), api.AppendDateTime(nil, end)
		for _, oid := range w.objects {
			path := fmt.Sprintf("/objects/%d/values?from=%s&to=%s", oid, fs, ts)
			if !w.readable(ui, oid) {
				c.Want("GET", path, "", 404, api.ExcItemNotFound)
				c.Want("GET", fmt.Sprintf("/objects/%d/values/latest", oid), "", 404, api.ExcItemNotFound)
				c.Want("GET", fmt.Sprintf("/objects/%d/stats", oid), "", 404, api.ExcItemNotFound)
				continue
			}
			var raw []rawJSON
			c.Want("GET", path, "", 200, "").JSON(t, &raw)
			var got, want []string
			for _, x := range raw {
				got = append(got, fmt.Sprintf("%d %s %s", x.ObjectID, x.Timestamp, x.Value))
			}
			for _, s := range w.samples[oid] {
				if s.ts >= t0-2*3600_000 && s.ts <= end && w.visible(ui, oid, s.ts) {
					want = append(want, fmt.Sprintf("%d %s %s", oid, api.AppendDateTime(nil, s.ts), s.text))
				}
			}
			compare(fmt.Sprintf("user %d values of %d", ui, oid), got, want)
			// latest before a random instant
			before := t0 + int64(r.IntN(6*3600_000))
			c.Want("GET", fmt.Sprintf("/objects/%d/values/latest?before=%s", oid, api.AppendDateTime(nil, before)), "", 200, "").JSON(t, &raw)
			got, want = got[:0], want[:0]
			for _, x := range raw {
				got = append(got, x.Timestamp)
			}
			for i := len(w.samples[oid]) - 1; i >= 0; i-- {
				if s := w.samples[oid][i]; s.ts <= before && w.visible(ui, oid, s.ts) {
					want = append(want, string(api.AppendDateTime(nil, s.ts)))
					break
				}
			}
			compare(fmt.Sprintf("user %d latest of %d", ui, oid), got, want)
		}
	}
	t.Logf("%d expected rows checked: %d leaked, %d missing", checked, leaked, missing)
}
