package lead

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package when a test leaves a goroutine behind: every
// job, worker and server a test starts must be stopped and waited for.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
