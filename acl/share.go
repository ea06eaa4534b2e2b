package acl

import "strconv"

func msString(t int64) string { return strconv.FormatInt(t, 10) }

// shareRule is the Casbin rule of a share: members of ug read og's objects; the
// window bounds travel as Unix milliseconds ("" = open).
func shareRule(tenant, og, ug uint32, w Window) rule {
	from, to := "", ""
	if !w.From.IsZero() {
		from = msString(w.From.UnixMilli())
	}
	if !w.To.IsZero() {
		to = msString(w.To.UnixMilli())
	}
	return pRule(roleUG(ug, false), domT(tenant), grpOG(og), "read", "share", from, to)
}
