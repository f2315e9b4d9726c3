#pragma once
// SIGTERM and SIGINT as a request to stop: a preempted cluster node gets
// SIGTERM and a few seconds before SIGKILL. The handler only records the
// signal (and prints one line naming the checkpoint to resume from, in case the
// process is killed before it can say more); training checks the request at
// the next step boundary, writes a checkpoint and exits cleanly.
#include <string>

namespace distsgd {

void install_stop_handlers(int rank);
// The signal that asked to stop (SIGTERM, SIGINT), or 0.
int stop_signal();
// What the handler prints besides the signal: "last checkpoint: PATH".
void set_resume_hint(const std::string& hint);
std::string signal_name(int signal);

}  // namespace distsgd
