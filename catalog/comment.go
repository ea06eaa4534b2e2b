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

// Comments returns the comments of object oid in id order.
func (c *Catalog) Comments(oid uint32) []Comment {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := slices.Clone(c.mu.comments[oid])
	slices.SortFunc(out, func(a, b Comment) int { return int(a.ID) - int(b.ID) })
	return out
}

// DeleteComment deletes comment cid of object oid; absent → ErrUnchanged.
func (c *Catalog) DeleteComment(oid, cid uint32) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	i := slices.IndexFunc(c.mu.comments[oid], func(cm Comment) bool { return cm.ID == cid })
	if i < 0 {
		return ErrUnchanged
	}
	if err := c.db.Delete(key(kindComment, oid, cid), syncWrite); err != nil {
		return fmt.Errorf("catalog: cannot delete comment %d: %w", cid, err)
	}
	c.mu.comments[oid] = slices.Delete(slices.Clone(c.mu.comments[oid]), i, i+1)
	return nil
}
