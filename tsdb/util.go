package tsdb

import "errors"

func isUnknown(err error) bool { return errors.Is(err, ErrUnknownSeries) }
