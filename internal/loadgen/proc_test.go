package loadgen

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestStatCPUIsUserPlusSystemTimeWhateverTheCommandName(t *testing.T) {
	// 14th and 15th fields: utime 250 and stime 50 ticks = 3 s.
	const rest = " S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 9 0 100 200 300"
	for _, comm := range []string{"handoffd", "redis-server *:6379", "a) (b", ")"} {
		got, err := ParseStatCPU("4242 (" + comm + ")" + rest)
		require.NoError(t, err, comm)
		require.Equal(t, 3*time.Second, got, comm)
	}
}

func TestMalformedStatIsAnError(t *testing.T) {
	for _, s := range []string{"", "4242 handoffd S 1", "4242 (handoffd) S 1 2 3", "4242 (x) S 1 2 3 4 5 6 7 8 9 10 x 50"} {
		_, err := ParseStatCPU(s)
		require.Error(t, err, "%q", s)
	}
}

func TestStatusMemoryIsRSSAndPeakInBytes(t *testing.T) {
	status := "Name:\thandoffd\nVmPeak:\t 999999 kB\nVmHWM:\t   20480 kB\nVmRSS:\t   10240 kB\nThreads:\t9\n"
	rss, hwm, err := ParseStatusMemory(status)
	require.NoError(t, err)
	require.EqualValues(t, 10<<20, rss)
	require.EqualValues(t, 20<<20, hwm)

	_, _, err = ParseStatusMemory("Name:\tx\nVmRSS:\t 1 kB\n")
	require.Error(t, err, "no VmHWM")
	_, _, err = ParseStatusMemory("VmRSS:\t 1 MB\nVmHWM:\t 1 kB\n")
	require.Error(t, err, "unknown unit")
}

// TestSamplingThisProcessSeesItsOwnCPUTime reads the real /proc: after a
// busy loop, the process's CPU time has grown and it has a resident set.
func TestSamplingThisProcessSeesItsOwnCPUTime(t *testing.T) {
	a, err := SampleProc(os.Getpid())
	require.NoError(t, err)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		b, err := SampleProc(os.Getpid())
		require.NoError(t, err)
		if b.CPU > a.CPU {
			require.Positive(t, b.RSS)
			require.GreaterOrEqual(t, b.HWM, b.RSS)
			require.Positive(t, CoresBetween(a, b))
			return
		}
		for i := 0; i < 1e6; i++ { // spin, so CPU time accrues
			_ = i * i
		}
	}
	t.Fatal("CPU time never grew")
}

func TestCoresBetweenIsCPUTimeOverWallTime(t *testing.T) {
	at := time.Unix(1000, 0)
	a := ProcSample{At: at, CPU: time.Second}
	b := ProcSample{At: at.Add(4 * time.Second), CPU: 7 * time.Second}
	require.InDelta(t, 1.5, CoresBetween(a, b), 1e-9)
	require.Zero(t, CoresBetween(b, a), "samples out of order")
}
