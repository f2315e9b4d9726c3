#include "core/stop_signal.hpp"

#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstring>

namespace distsgd {
namespace {

std::atomic<int> requested{0};
// Two message buffers: the handler reads the one `current` names while the
// other is rewritten, so it never prints a half-written line.
char messages[2][1024];
std::atomic<int> current{-1};
int own_rank = 0;

void on_signal(int signal) {
  requested.store(signal);
  const int index = current.load();
  if (index >= 0) {
    const ssize_t ignored = ::write(STDERR_FILENO, messages[index], std::strlen(messages[index]));
    (void)ignored;
  }
}

void compose(const std::string& hint) {
  const int next = current.load() == 0 ? 1 : 0;
  std::snprintf(messages[next], sizeof(messages[next]),
                "distsgd: rank %d: stop requested by a signal; it stops at the next step "
                "boundary (%s)\n",
                own_rank, hint.c_str());
  current.store(next);
}

}  // namespace

void install_stop_handlers(int rank) {
  own_rank = rank;
  compose("no checkpoint yet");
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
}

int stop_signal() { return requested.load(); }

void set_resume_hint(const std::string& hint) { compose(hint); }

std::string signal_name(int signal) {
  switch (signal) {
    case SIGTERM:
      return "SIGTERM";
    case SIGINT:
      return "SIGINT";
    default:
      return "signal " + std::to_string(signal);
  }
}

}  // namespace distsgd
