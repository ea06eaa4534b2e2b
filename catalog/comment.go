package catalog

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Comment annotates a time range of an object (bbdata-v2.md §2.8).
type Comment struct {
	ID       uint32    `json:"id"`
	ObjectID uint32    `json:"objectId"`
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	Text     string    `json:"comment"`
	Created  time.Time `json:"created"`
	Author   uint32    `json:"author,omitempty"`
	// Deleted is when the comment was deleted (zero: not deleted). Deleted comments
	// are kept for as-of reads (CommentsAsOf) and hidden from Comments.
	Deleted time.Time `json:"deleted,omitzero"`
}

// AddComment adds a comment on object oid; from > to or a blank text →
// *ValidationError.
func (c *Catalog) AddComment(oid uint32, from, to time.Time, text string, author uint32) (Comment, error) {
	if strings.TrimSpace(text) == "" {
		return Comment{}, &ValidationError{Fields: map[string]string{"comment": "must not be blank"}}
	}
	if from.After(to) {
		return Comment{}, Invalid("from must be before to")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.objectLocked(oid) == nil {
		return Comment{}, fmt.Errorf("catalog: object %d: %w", oid, ErrNotFound)
	}
	cm := Comment{ID: c.mu.nextCmt, ObjectID: oid, From: from.UTC(), To: to.UTC(), Text: text,
		Created: c.recordTimeLocked(), Author: author}
	b := c.db.NewBatch()
	defer b.Close()
	if err := b.Set(key(kindComment, oid, cm.ID), encode(&cm), nil); err != nil {
		return Comment{}, err
	}
	if err := setCounter(b, "comment", cm.ID+1); err != nil {
		return Comment{}, err
	}
	if err := b.Commit(syncWrite); err != nil {
		return Comment{}, fmt.Errorf("catalog: cannot store a comment of object %d: %w", oid, err)
	}
	c.mu.nextCmt++
	c.mu.comments[oid] = append(c.mu.comments[oid], cm)
	return cm, nil
}

// Comments returns the current comments of object oid in id order.
func (c *Catalog) Comments(oid uint32) []Comment {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out []Comment
	for _, cm := range c.mu.comments[oid] {
		if cm.Deleted.IsZero() {
			out = append(out, cm)
		}
	}
	slices.SortFunc(out, func(a, b Comment) int { return int(a.ID) - int(b.ID) })
	return out
}

// CommentsAsOf returns the comments of object oid that existed just before t
// (created before t, not deleted before t), in id order (API.md §4: comments seen
// through a time-bounded share).
func (c *Catalog) CommentsAsOf(oid uint32, t time.Time) []Comment {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out []Comment
	for _, cm := range c.mu.comments[oid] {
		if cm.Created.Before(t) && (cm.Deleted.IsZero() || !cm.Deleted.Before(t)) {
			out = append(out, cm)
		}
	}
	slices.SortFunc(out, func(a, b Comment) int { return int(a.ID) - int(b.ID) })
	return out
}

// DeleteComment deletes comment cid of object oid (kept, marked deleted, for
// as-of reads); absent → ErrUnchanged.
func (c *Catalog) DeleteComment(oid, cid uint32) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	i := slices.IndexFunc(c.mu.comments[oid], func(cm Comment) bool { return cm.ID == cid && cm.Deleted.IsZero() })
	if i < 0 {
		return ErrUnchanged
	}
	cm := c.mu.comments[oid][i]
	cm.Deleted = c.recordTimeLocked()
	if err := c.db.Set(key(kindComment, oid, cid), encode(&cm), syncWrite); err != nil {
		return fmt.Errorf("catalog: cannot delete comment %d: %w", cid, err)
	}
	cs := slices.Clone(c.mu.comments[oid])
	cs[i] = cm
	c.mu.comments[oid] = cs
	return nil
}
