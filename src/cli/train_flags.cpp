#include "cli/train_flags.hpp"

#include <string>

#include "models/model.hpp"

namespace distsgd::cli {
namespace {

// From the model registry, so the help cannot fall behind make_model().
std::string model_help() {
  std::string names;
  for (const auto& name : models::model_names()) names += (names.empty() ? "" : " | ") + name;
  return "Network: " + names;
}

}  // namespace

void add_train_flags(CLI::App& app, TrainConfig& c) {
  app.add_option("--algo", c.algo,
                 "Method: allreduce (synchronous all-reduce SGD) | asgd (asynchronous SGD on "
                 "parameter servers) | easgd (elastic averaging SGD on parameter servers) | "
                 "gossip-pull | gossip-push (gossiping SGD: averaging with one peer at a time) | "
                 "local-sgd (workers average their models every --local-steps) | gossip-pga "
                 "(gossip, and an exact average every --global-every steps)")
      ->capture_default_str()
      ->group("Method");
  app.add_option("--servers", c.servers, "asgd/easgd: parameter servers (the last S ranks)")
      ->capture_default_str()
      ->group("Method");
  app.add_option("--max-staleness", c.max_staleness,
                 "asgd/easgd: a worker may be at most K updates ahead of the slowest live worker "
                 "(the server holds its reply); unset: unbounded")
      ->group("Method");
  app.add_option("--asgd-rule", c.asgd_rule,
                 "asgd: how the server steps on a gradient: momentum (--momentum is the effective "
                 "momentum: the server's own is max(0, momentum - (1 - 1/workers)), asynchrony "
                 "adding the rest) | staleness (a gradient tau updates old steps lr / max(1, tau)) "
                 "| staleness-momentum (both) | plain (Downpour: lr and --momentum as given)")
      ->capture_default_str()
      ->group("Method");
  app.add_option("--topology", c.topology, "gossip: peers from random | ring | exponential")
      ->capture_default_str()
      ->group("Method");
  app.add_option("--gossip-peers", c.gossip_peers,
                 "gossip: peers per round (pull averages with 1/(r+1) weights)")
      ->capture_default_str()
      ->group("Method");
  app.add_option(
         "--push-mode", c.push_mode,
         "gossip-push: sum (push-sum, mass-conserving) | average (the receiver averages with what "
         "arrived, as the seed paper)")
      ->capture_default_str()
      ->group("Method");
  app.add_flag("--gossip-momentum", c.gossip_momentum,
               "gossip: mix momentum buffers too (default: local)")
      ->group("Method");
  app.add_option("--local-steps", c.local_steps,
                 "local-sgd: steps each worker takes alone between two averages of the models")
      ->capture_default_str()
      ->group("Method");
  app.add_option("--post-local-after", c.post_local_after,
                 "local-sgd: synchronous all-reduce SGD for the first E epochs, then local SGD "
                 "(post-local SGD)")
      ->capture_default_str()
      ->group("Method");
  app.add_flag("--average-momentum", c.average_momentum,
               "local-sgd: average the momentum buffers with the models (default: local)")
      ->group("Method");
  app.add_option("--global-every", c.global_every,
                 "gossip-pga: steps between two exact all-reduce averages of every node's model")
      ->capture_default_str()
      ->group("Method");
  app.add_option("--gossip-mode", c.gossip_mode,
                 "gossip-pga: pull | push (push-sum, or the variant --push-mode names)")
      ->capture_default_str()
      ->group("Method");
  app.add_option("--tau", c.tau,
                 "easgd: local steps between elastic exchanges; gossip: between rounds")
      ->capture_default_str()
      ->group("Method");
  app.add_option("--easgd-beta", c.easgd_beta,
                 "easgd: moving rate alpha = beta / workers, in (0, 1]")
      ->capture_default_str()
      ->group("Method");
  app.add_option("--bucket-mb", c.bucket_mb,
                 "allreduce: gradient bucket size in MiB; a bucket is reduced as soon as backward "
                 "has finished its gradients")
      ->capture_default_str()
      ->group("Method");

  app.add_option("--model", c.model, model_help())->capture_default_str()->group("Model and data");
  app.add_option(
         "--dataset", c.dataset,
         "fashion-mnist | mnist-idx (needs --data-dir) | cifar10 (needs --data-dir) | synthetic | "
         "image-folder (needs --data-dir: DIR/train/<class>/, DIR/val/<class>/)")
      ->capture_default_str()
      ->group("Model and data");
  app.add_option("--data-dir", c.data_dir,
                 "Directory of the data set's files (fashion-mnist default: "
                 "/usr/share/datasets/fashion-mnist)")
      ->group("Model and data");
  app.add_option("--synthetic-shape", c.synthetic_shape,
                 "synthetic data: cifar (3x32x32, 10 classes) | imagenet (3x224x224, 1000 classes)")
      ->capture_default_str()
      ->group("Model and data");
  app.add_flag("!--no-augment", c.augment, "Turn off CIFAR-10 random crop and flip")
      ->group("Model and data");
  app.add_option("--image-size", c.image_size, "image-folder: the side S of the 3 x S x S samples")
      ->capture_default_str()
      ->group("Model and data");
  app.add_option("--loader-threads", c.loader_threads,
                 "image-folder: threads decoding and augmenting batches ahead of the step (0: on "
                 "the training thread)")
      ->capture_default_str()
      ->group("Model and data");
  app.add_option("--bad-images", c.bad_images,
                 "image-folder: a file that cannot be decoded: error (stop, naming it) | skip "
                 "(use the next good one, counted in summary.json)")
      ->capture_default_str()
      ->group("Model and data");
  app.add_option("--init-from", c.init_from,
                 "Start from this PyTorch state dict (torch.save(model.state_dict(), FILE); "
                 "torchvision's names for resnet18/resnet50) instead of random weights")
      ->group("Model and data");

  app.add_option("--epochs", c.epochs, "Epochs to train")
      ->capture_default_str()
      ->group("Optimisation");
  app.add_option("--batch-size", c.batch_size, "Samples per step per worker")
      ->capture_default_str()
      ->group("Optimisation");
  app.add_option("--lr", c.lr, "Base learning rate")->capture_default_str()->group("Optimisation");
  app.add_option("--momentum", c.momentum, "SGD momentum")
      ->capture_default_str()
      ->group("Optimisation");
  app.add_flag("--nesterov", c.nesterov, "Nesterov momentum")->group("Optimisation");
  app.add_option("--weight-decay", c.weight_decay, "L2 weight decay")
      ->capture_default_str()
      ->group("Optimisation");
  app.add_option("--lr-schedule", c.lr_schedule, "step (decay at --lr-decay-epochs) | cosine")
      ->capture_default_str()
      ->group("Optimisation");
  app.add_option("--lr-decay-epochs", c.lr_decay_epochs,
                 "Epochs at which step decay multiplies by --lr-decay, e.g. 30,60")
      ->delimiter(',')
      ->group("Optimisation");
  app.add_option("--lr-decay", c.lr_decay, "Step decay factor")
      ->capture_default_str()
      ->group("Optimisation");
  app.add_option("--warmup-epochs", c.warmup_epochs,
                 "Linear learning-rate warm-up, in epochs (fractions allowed)")
      ->capture_default_str()
      ->group("Optimisation");
  app.add_option("--lr-scaling", c.lr_scaling,
                 "none | linear | sqrt | inverse (learning rate times the number of workers, its "
                 "square root, or divided by it)")
      ->capture_default_str()
      ->group("Optimisation");
  app.add_option("--max-steps", c.max_steps, "Stop after this many steps per worker (benchmarks)")
      ->group("Optimisation");

  app.add_option("--eval-every", c.eval_every,
                 "Evaluate on the test set every N steps (0: every epoch)")
      ->capture_default_str()
      ->group("Evaluation and output");
  app.add_option("--evaluations", c.evaluations,
                 "With --eval-every 0: evaluate K times, evenly over the run (0: every epoch)")
      ->capture_default_str()
      ->group("Evaluation and output");
  app.add_option("--eval-batch-size", c.eval_batch_size, "Batch size of evaluation")
      ->capture_default_str()
      ->group("Evaluation and output");
  app.add_option("--eval-samples", c.eval_samples,
                 "Evaluations during training score a fixed, class-balanced subset of N test samples; the final "
                 "evaluation scores the whole test set (0: every evaluation scores the whole set)")
      ->capture_default_str()
      ->group("Evaluation and output");
  app.add_option("--target-accuracy", c.target_accuracy,
                 "Record the training time at which test accuracy first reaches this (0..1)")
      ->group("Evaluation and output");
  app.add_option("--checkpoint-every", c.checkpoint_every,
                 "Write a checkpoint every N epochs (0: never)")
      ->capture_default_str()
      ->group("Evaluation and output");
  app.add_option("--log-dir", c.log_dir, "Where metrics, checkpoints and summary.json go")
      ->capture_default_str()
      ->group("Evaluation and output");
  app.add_option("--resume", c.resume,
                 "Continue from this checkpoint file; auto: from the newest good checkpoint in "
                 "--log-dir, or a fresh start when there is none (a requeued job)")
      ->group("Evaluation and output");
  app.add_option(
         "--stop-after-epoch", c.stop_after_epoch,
         "End this run after epoch N (with its checkpoint), as if preempted; --resume continues")
      ->group("Evaluation and output");
  app.add_flag("--quiet", c.quiet, "No progress line")->group("Evaluation and output");

  app.add_option("--seed", c.seed, "Seed of initial weights, shuffling and augmentation")
      ->capture_default_str()
      ->group("Execution");
  app.add_option("--threads", c.threads, "LibTorch threads per rank")
      ->capture_default_str()
      ->group("Execution");
  app.add_option("--device", c.device,
                 "cpu | cuda (one GPU per rank, by local rank) | cuda:K | auto (cuda when a GPU "
                 "is visible); a GPU is refused until the exchange supports one")
      ->capture_default_str()
      ->group("Execution");
  app.add_option(
         "--straggler", c.straggler,
         "RANK:FACTOR: that rank computes FACTOR times slower (it sleeps (FACTOR-1) times its "
         "compute time after each backward pass)")
      ->group("Fault injection");
  app.add_option(
         "--straggler-random", c.straggler_random,
         "P:MS: every rank's step is delayed by MS milliseconds with probability P (as the seed "
         "paper's code)")
      ->group("Fault injection");
  app.add_option("--leave-early", c.leave_early,
                 "RANK:STEPS: that worker stops after STEPS steps, as a node leaving the job "
                 "(asynchronous methods)")
      ->group("Fault injection");
  app.add_flag("--survive-worker-loss", c.survive_worker_loss,
               "asgd/easgd/gossip: a worker (gossip: a node other than rank 0) silent for "
               "--timeout-s is dropped and the others finish without it (needs mpirun "
               "--enable-recovery, else mpirun ends the job)")
      ->group("Fault injection");
  app.add_option("--inject-nan", c.inject_nan,
                 "RANK:STEP: that rank's loss becomes NaN at that step (0-based), to see "
                 "--nan-policy at work")
      ->group("Fault injection");
  app.add_option(
         "--timeout-s", c.timeout_s,
         "Deadline of every wait on another rank; past it the run names the operation and the "
         "ranks waited for, and exits non-zero")
      ->capture_default_str()
      ->group("Execution");
  app.add_option("--stall-warn-s", c.stall_warn_s,
                 "Warn when a wait on other ranks lasts this long (and again at every multiple), "
                 "naming the ranks that have not joined the operation; 0: never")
      ->capture_default_str()
      ->group("Execution");
  app.add_option("--nan-policy", c.nan_policy,
                 "A NaN or infinite loss: stop (name the step, keep the last good checkpoint) or "
                 "skip (drop that update and count it in the summary)")
      ->check(CLI::IsMember({"stop", "skip"}))
      ->capture_default_str()
      ->group("Execution");
  app.add_option("--timeline", c.timeline,
                 "Write a Chrome trace (Perfetto, chrome://tracing) of every rank's forward, "
                 "backward, exchanges, waits and more to FILE (docs/timeline.md)")
      ->group("Evaluation and output");
}

}  // namespace distsgd::cli
