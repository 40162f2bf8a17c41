package connectors

import "context"

// ProgressFunc receives how many of a pull's API calls are done out of how
// many it will make.
type ProgressFunc func(done, total int)

type progressKey struct{}

// WithProgress returns a context whose pulls report their progress to fn;
// `punchbridge pull` uses it to draw a progress bar.
func WithProgress(ctx context.Context, fn ProgressFunc) context.Context {
	return context.WithValue(ctx, progressKey{}, fn)
}

// ReportProgress tells the caller of a pull how far it is; sources call it
// after each API call of a planned sequence. Without WithProgress it does
// nothing.
func ReportProgress(ctx context.Context, done, total int) {
	if fn, ok := ctx.Value(progressKey{}).(ProgressFunc); ok && fn != nil {
		fn(done, total)
	}
}
