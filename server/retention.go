package server

import (
	"fmt"
	"time"

	"github.com/tsgate/tsgate/api"
	"github.com/tsgate/tsgate/catalog"
)

// EnforceRetention deletes, for every object whose tenant has a retention (or under the node's
// global --retention), its raw values and rollup rows before the cut — the start of the UTC day
// of now − retention, so every remaining rollup row still equals a recomputation from raw data
// (API.md §4). It returns how many objects it trimmed.
func (n *Node) EnforceRetention(now time.Time) (int, error) {
	type job struct {
		id     uint32
		tenant uint32
	}
	var jobs []job
	n.Catalog.ForEachObject(func(o *catalog.Object) bool {
		jobs = append(jobs, job{o.ID, o.Tenant})
		return true
	})
	cuts := map[uint32]int64{} // tenant → cut (ms), 0 = keep everything
	trimmed := 0
	for _, j := range jobs {
		cut, ok := cuts[j.tenant]
		if !ok {
			cut = n.retentionCut(j.tenant, now)
			cuts[j.tenant] = cut
		}
		if cut == 0 {
			continue
		}
		st, err := n.DB.Stats(j.id)
		if err != nil || st.Count == 0 || st.FirstTs >= cut {
			continue
		}
		if err := n.Rollups.DeleteRange(j.id, 0, cut-1); err != nil {
			return trimmed, fmt.Errorf("server: retention of object %d: %w", j.id, err)
		}
		if after, err := n.DB.Stats(j.id); err == nil && after.Count < st.Count {
			n.retentionSamples.Add(int(st.Count - after.Count))
		}
		trimmed++
	}
	if trimmed > 0 {
		n.retentionTrims.Add(trimmed)
	}
	return trimmed, nil
}

// retentionCut is the first kept instant (ms) for tenant at now, 0 when unlimited.
func (n *Node) retentionCut(tenant uint32, now time.Time) int64 {
	d := n.retention
	if t, err := n.ACL.Tenant(tenant); err == nil && t.Retention != "" {
		if td, err := api.ParseDuration(t.Retention); err == nil {
			d = td
		}
	}
	if d <= 0 {
		return 0
	}
	cut := now.Add(-d).UTC().Truncate(24 * time.Hour)
	return cut.UnixMilli()
}

// enforceRetention runs EnforceRetention at start and then every period until Shutdown.
func (n *Node) enforceRetention(period time.Duration) {
	defer n.wg.Done()
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		if k, err := n.EnforceRetention(n.now()); err != nil {
			n.log.Error("retention", "err", err)
		} else if k > 0 {
			n.log.Info("retention trimmed objects", "objects", k)
		}
		select {
		case <-n.stop:
			return
		case <-t.C:
		}
	}
}
