// Package resource replaces FerretDB 1.24's internal/util/resource in this
// launcher's build (go build -overlay, see scripts/setup.mjs).
//
// FerretDB's own version is a debugging aid: every document and array
// iterator it creates is added to a pprof profile with its stack, and gets a
// finalizer that panics if the iterator was not closed. Measured under the
// order benchmark that bookkeeping was 9% of FerretDB's CPU (stack captures in
// pprof.Profile.Add), plus the garbage collector's work on the finalizers. The
// API is kept; tracking does nothing.
package resource

// Token should be a field of a tracked object.
type Token byte

// NewToken returns a new Token.
func NewToken() *Token {
	return new(Token)
}

// Track does nothing in this build.
func Track(obj any, token *Token) {}

// Untrack does nothing in this build.
func Untrack(obj any, token *Token) {}
