package tsdb

// Head growth off the write path. A head's arrays grow by doubling; with
// many objects written at the same rate (sensors, the standard dataset)
// every head reaches its capacity in the same few requests, and those
// requests allocated, faulted in and copied tens of MB while holding the
// lock every other append waited for: 20–100 ms stalls at the start of
// each head cycle, the p99 of `tsgate bench ingest --rate` (bench/RESULTS.md,
// `## ingest`). Now an append that fills a head past growAt of its capacity
// hands it to the grower goroutine, which allocates arrays half as large
// again outside every lock and swaps them in under the object's stripe (by
// half, not double: a head grown ahead of need often stops short of it when
// the flush cuts it); the head has room left meanwhile, and if it fills
// first, put grows it as before.

// growAt is the fill (in 1/8ths) from which a head is grown ahead of need;
// minGrowCap the capacity below which growing inline is cheap enough.
const (
	growAt     = 7
	minGrowCap = 64
)

// growReq asks for s's head to get capacity n.
type growReq struct {
	s *series
	n int
}

// noteGrowthLocked queues s for growth when its head is filling up
// (caller holds s's stripe lock).
func (sc *appendScratch) noteGrowthLocked(s *series) {
	h := &s.head
	c := cap(h.ts)
	if s.growPending || c < minGrowCap || len(h.ts)*8 < c*growAt {
		return
	}
	s.growPending = true
	sc.grow = append(sc.grow, growReq{s, c + c/2})
}

// submitGrowth hands the requests to the grower (after the append's locks
// are released). A full queue drops them: those heads grow inline.
func (db *DB) submitGrowth(reqs []growReq) {
	select {
	case db.growCh <- append([]growReq(nil), reqs...):
	default:
		db.lockAll()
		for _, r := range reqs {
			r.s.growPending = false
		}
		db.unlockAll()
	}
}

// growLoop runs the growth requests until Close.
func (db *DB) growLoop() {
	defer db.wg.Done()
	type alloc struct {
		ts   []int64
		nums []uint64
	}
	var arrs []alloc
	for {
		var reqs []growReq
		select {
		case <-db.quit:
			return
		case reqs = <-db.growCh:
		}
		arrs = arrs[:0]
		for _, r := range reqs {
			arrs = append(arrs, alloc{make([]int64, 0, r.n), make([]uint64, 0, r.n)})
		}
		for i, r := range reqs {
			st := db.stripe(r.s.id)
			db.big.RLock()
			st.Lock()
			h := &r.s.head
			// The head may have been cut (a flush) or grown inline meanwhile.
			if !r.s.deleted && cap(h.ts) < r.n && len(h.ts) <= r.n {
				h.ts = append(arrs[i].ts, h.ts...)
				h.nums = append(arrs[i].nums, h.nums...)
			}
			r.s.growPending = false
			st.Unlock()
			db.big.RUnlock()
		}
		clear(arrs)
	}
}
