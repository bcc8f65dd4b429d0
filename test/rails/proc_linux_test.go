package rails_test

import (
	"os/exec"
	"syscall"
)

// dieWithTest has the kernel kill cmd if the test binary dies without its
// cleanups (a -timeout panic, a kill): no Rails server or herald left behind.
func dieWithTest(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}
