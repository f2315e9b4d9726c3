#include "algorithms/gossip_service.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "methods/update_math.hpp"
#include "core/idle_backoff.hpp"
#include "core/timeline.hpp"

namespace distsgd {
namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

GossipService::GossipService(comm::Communicator& comm, std::size_t state_size,
                             std::size_t push_floats, double heartbeat_s)
    : comm_(comm),
      state_size_(state_size),
      peers_(static_cast<std::size_t>(comm.size())),
      end_(comm.size(), heartbeat_s),
      snapshot_(state_size),
      inbox_(state_size),
      heartbeat_s_(heartbeat_s) {
  for (int rank = 0; rank < comm_.size(); ++rank) {
    if (rank == comm_.rank()) continue;
    auto& peer = peers_[static_cast<std::size_t>(rank)];
    peer.reply.resize(state_size);
    peer.push.resize(push_floats);
  }
}

GossipService::~GossipService() {
  // Only reached without stop() when the run is failing; the thread must not
  // outlive the object it works on.
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void GossipService::post(Peer& peer, int rank) {
  peer.pull_receive =
      comm_.irecv(&peer.pull_request, sizeof peer.pull_request, rank, gossip_tags::kPullRequest,
                  fmt::format("a pull request from rank {}", rank));
  peer.push_receive = comm_.irecv(peer.push.data(), peer.push.size() * sizeof(float), rank,
                                  gossip_tags::kPush, fmt::format("a push from rank {}", rank));
}

void GossipService::watch_liveness(double silent_after_s) {
  watch_ = true;
  silent_after_s_ = silent_after_s;
}

void GossipService::post_alive_receive(Peer& peer, int rank) {
  peer.alive_receive = comm_.irecv(&peer.alive, sizeof peer.alive, rank, gossip_tags::kAlive,
                                   fmt::format("a heartbeat of rank {}", rank));
}

void GossipService::start() {
  const double now = now_s();
  for (int rank = 0; rank < comm_.size(); ++rank) {
    auto& peer = peers_[static_cast<std::size_t>(rank)];
    if (rank != comm_.rank()) post(peer, rank);
    if (comm_.rank() == 0) post_done_receive(peer, rank);
    if (comm_.rank() == 0 && watch_ && rank != 0) post_alive_receive(peer, rank);
    end_.heard(rank, now);  // the silence of each node counts from here
  }
  thread_ = std::thread([this] { loop(); });
}

void GossipService::post_done_receive(Peer& peer, int rank) {
  peer.done_receive =
      comm_.irecv(&peer.done_request, sizeof peer.done_request, rank, gossip_tags::kDone,
                  fmt::format("the end-of-training notice of rank {}", rank));
}

void GossipService::publish(std::span<const float> state) {
  std::lock_guard lock(snapshot_mutex_);
  std::copy(state.begin(), state.end(), snapshot_.begin());
}

void GossipService::take_pushes(gossip::Inbox& taken) {
  taken.clear();
  std::lock_guard lock(inbox_mutex_);
  std::swap(taken, inbox_);
}

void GossipService::absorb_push(const Peer& peer) {
  timeline::Span span("receive push", "gossip");
  std::lock_guard lock(inbox_mutex_);
  gossip::NodeCore::add_push(inbox_, peer.push);
  ++pushes_received_;
}

void GossipService::loop() {
  timeline::name_this_thread("gossip service");
  try {
    // Ranks may share cores with the training threads: back off when idle.
    IdleBackoff idle;
    while (!stop_) {
      if (poll_once()) idle.reset();
      else idle.pause();
    }
  } catch (...) {
    error_ = std::current_exception();
    failed_ = true;
  }
}

bool GossipService::poll_once() {
  bool progressed = false;
  for (int rank = 0; rank < comm_.size(); ++rank) {
    auto& peer = peers_[static_cast<std::size_t>(rank)];
    if (rank != comm_.rank()) {
      if (peer.pull_receive.valid() && peer.pull_receive.test()) {
        timeline::Span span("serve pull", "gossip", "peer", rank);
        if (peer.reply_send.valid()) peer.reply_send.wait();  // its buffer is ours again
        {
          std::lock_guard lock(snapshot_mutex_);
          std::copy(snapshot_.begin(), snapshot_.end(), peer.reply.begin());
        }
        peer.reply_send =
            comm_.isend(peer.reply.data(), peer.reply.size() * sizeof(float), rank,
                        gossip_tags::kPullReply, fmt::format("the answer to rank {}'s pull", rank));
        bytes_sent_ += static_cast<int64_t>(peer.reply.size() * sizeof(float));
        ++pulls_served_;
        peer.pull_receive = comm_.irecv(&peer.pull_request, sizeof peer.pull_request, rank,
                                        gossip_tags::kPullRequest,
                                        fmt::format("a pull request from rank {}", rank));
        progressed = true;
      }
      if (peer.push_receive.valid() && peer.push_receive.test()) {
        absorb_push(peer);
        peer.push_receive =
            comm_.irecv(peer.push.data(), peer.push.size() * sizeof(float), rank,
                        gossip_tags::kPush, fmt::format("a push from rank {}", rank));
        progressed = true;
      }
    }
    if (comm_.rank() == 0 && peer.done_receive.valid() && peer.done_receive.test()) {
      end_.finished(rank, now_s());
      peer.done_receive = comm::Request();
      progressed = true;
    }
    if (peer.alive_receive.valid() && peer.alive_receive.test()) {
      end_.heard(rank, now_s());
      post_alive_receive(peer, rank);
    }
  }
  if (watch_) keep_alive(now_s());
  if (comm_.rank() == 0) answer_finished_nodes(now_s());
  return progressed;
}

// --survive-worker-loss. A node sends rank 0 a heartbeat every interval (not
// while the previous one is still pending: rank 0 stopped or gone). Rank 0
// drops a node still training that has been silent past the deadline.
void GossipService::keep_alive(double now) {
  if (comm_.rank() != 0) {
    if (now < next_alive_ || (alive_send_.valid() && !alive_send_.test())) return;
    alive_send_ = comm_.isend(&alive_token_, sizeof alive_token_, 0, gossip_tags::kAlive,
                              "a heartbeat to rank 0");
    next_alive_ = now + heartbeat_s_;
    return;
  }
  end_.heard(0, now);  // rank 0 is the one that decides: never silent to itself
  for (int rank : end_.drop_silent(now, silent_after_s_)) {
    lost_.push_back(rank);
    fmt::print(stderr,
               "distsgd: rank 0: rank {} has sent nothing for {:g} s (--timeout-s): rank {} is "
               "lost; going on without it ({} node(s) left)\n",
               rank, silent_after_s_, rank, comm_.size() - static_cast<int>(lost_.size()));
    std::fflush(stderr);
  }
}

// Rank 0: the answers end_of_run.hpp says are due; a node answered with 0
// sends nothing more, the others ask again.
void GossipService::answer_finished_nodes(double now) {
  for (const auto& answer : end_.answers(now)) {
    auto& peer = peers_[static_cast<std::size_t>(answer.member)];
    if (peer.done_send.valid()) peer.done_send.wait();
    peer.done_reply.assign(static_cast<std::size_t>(comm_.size()) + 2, 0);
    peer.done_reply[0] = answer.training;
    peer.done_reply[1] = static_cast<int64_t>(lost_.size());
    std::copy(lost_.begin(), lost_.end(), peer.done_reply.begin() + 2);
    peer.done_send = comm_.isend(peer.done_reply.data(),
                                 peer.done_reply.size() * sizeof(int64_t), answer.member,
                                 gossip_tags::kDoneReply,
                                 fmt::format("the end-of-training answer to rank {}", answer.member));
    if (answer.training != 0) post_done_receive(peer, answer.member);
  }
  // Dropped nodes count as released: rank 0 does not wait to tell them.
  released_ = end_.released_count();
}

void GossipService::stop(double timeout_s, const std::vector<int>& lost) {
  const double deadline = now_s() + timeout_s;
  while (comm_.rank() == 0 && !released_everyone() && !failed_) {
    if (now_s() > deadline)
      throw comm::CommTimeout(fmt::format(
          "timed out after {:.0f} s: rank 0 is waiting for the last end-of-training notices",
          timeout_s));
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  check();
  // Every node has finished and every push was matched before its sender said
  // so: withdraw the receives still posted, keeping a push that had arrived.
  for (int rank = 0; rank < comm_.size(); ++rank) {
    auto& peer = peers_[static_cast<std::size_t>(rank)];
    if (std::find(lost.begin(), lost.end(), rank) != lost.end()) {
      // A lost node: a push of its that had wholly arrived is still taken in;
      // a receive it may have begun to fill is abandoned, not cancelled and
      // waited for (that can block for good); a send to it is let go.
      if (peer.push_receive.valid() && peer.push_receive.test()) absorb_push(peer);
      for (auto* receive : {&peer.pull_receive, &peer.push_receive, &peer.alive_receive,
                            &peer.done_receive})
        receive->abandon();
      for (auto* send : {&peer.reply_send, &peer.done_send}) send->release();
      continue;
    }
    if (rank != comm_.rank()) {
      peer.pull_receive.cancel();
      if (peer.push_receive.valid() && !peer.push_receive.cancel()) absorb_push(peer);
      peer.alive_receive.cancel();
    }
    if (peer.reply_send.valid()) peer.reply_send.wait();
    if (peer.done_send.valid()) peer.done_send.wait();
  }
  // A heartbeat rank 0 no longer listens for: small, so it has gone out
  // already; let go of it rather than wait.
  if (alive_send_.valid() && !alive_send_.test()) alive_send_.release();
}

void GossipService::check() const {
  if (failed_) std::rethrow_exception(error_);
}

}  // namespace distsgd
