//! The cases, by area. Each is a `fn(&'static dyn Fixture)` named after
//! the SPEC item it proves; [`for_each_case!`](crate::for_each_case) lists
//! them all, marking those that need a fresh process.

pub mod cancel;
pub mod errors;
pub mod faults;
pub mod logs;
pub mod periodic;
pub mod process;
pub mod reactor_thread;
pub mod select;
pub mod setup;
pub mod shutdown;
pub mod stash;
pub mod stats;
pub mod stream;
pub mod stress;
pub mod submit;
#[cfg(feature = "tokio-compat")]
pub mod tokio_compat;
pub mod wait;

/// Invokes `__suite_case!` once per case: `(isolation, module, name)`.
#[doc(hidden)]
#[macro_export]
macro_rules! for_each_case {
    ($fixture:expr) => {
        $crate::__suite_case!(
            isolated,
            setup,
            r1_setup_starts_named_threads_and_returns_quickly,
            $fixture
        );
        $crate::__suite_case!(
            inline,
            setup,
            r1_start_failure_is_an_error_and_leaves_reactor_idle,
            $fixture
        );
        $crate::__suite_case!(
            isolated,
            setup,
            r2_setup_is_idempotent_across_threads,
            $fixture
        );
        $crate::__suite_case!(
            isolated,
            setup,
            r3_no_setup_turns_setup_into_a_no_op,
            $fixture
        );
        $crate::__suite_case!(
            inline,
            setup,
            r3_no_setup_or_attach_after_setup_is_already_started,
            $fixture
        );
        $crate::__suite_case!(
            inline,
            setup,
            r4_work_before_attach_is_queued_and_runs_after_attach,
            $fixture
        );
        $crate::__suite_case!(
            inline,
            setup,
            r4_attaching_twice_is_already_attached,
            $fixture
        );
        $crate::__suite_case!(
            inline,
            setup,
            r5_submitting_before_setup_is_not_set_up_at_once,
            $fixture
        );
        $crate::__suite_case!(
            isolated,
            setup,
            r5_global_submission_before_setup_is_not_set_up,
            $fixture
        );
        $crate::__suite_case!(
            inline,
            setup,
            r6_reactor_instances_are_independent,
            $fixture
        );
        $crate::__suite_case!(
            inline,
            shutdown,
            r7_shutdown_wakes_waiters_and_drops_futures,
            $fixture
        );
        $crate::__suite_case!(
            inline,
            shutdown,
            r7_everything_after_shutdown_is_reactor_stopped,
            $fixture
        );
        $crate::__suite_case!(
            inline,
            shutdown,
            r7_shutdown_drops_work_queued_before_attach,
            $fixture
        );
        $crate::__suite_case!(
            inline,
            shutdown,
            r7_destructor_panic_during_shutdown_is_contained,
            $fixture
        );
        $crate::__suite_case!(
            inline,
            shutdown,
            r7_shutdown_from_inside_the_reactor_returns_at_once,
            $fixture
        );
        $crate::__suite_case!(
            isolated,
            shutdown,
            r7_reactor_threads_exit_within_the_bound,
            $fixture
        );
        $crate::__suite_case!(
            isolated,
            shutdown,
            r7_guard_shuts_down_and_logs_failures_left_in_stash,
            $fixture
        );
        $crate::__suite_case!(
            isolated,
            faults,
            r7_shutdown_wakes_ten_thousand_blocked_waiters,
            $fixture
        );
        $crate::__suite_case!(
            isolated,
            faults,
            r7_shutdown_is_bounded_when_a_future_never_yields,
            $fixture
        );
        $crate::__suite_case!(
            isolated,
            faults,
            r7_shutdown_is_bounded_when_a_future_blocks_its_thread,
            $fixture
        );
        $crate::__suite_case!(
            isolated,
            process,
            r9_forked_child_gets_a_forked_error,
            $fixture
        );
        $crate::__suite_case!(
            inline,
            submit,
            w1_closure_runs_in_reactor_with_runtime_context,
            $fixture
        );
        $crate::__suite_case!(inline, submit, w2_ready_future_is_a_plain_value, $fixture);
        $crate::__suite_case!(
            inline,
            submit,
            w3_panic_in_closure_or_future_is_panicked_and_reactor_survives,
            $fixture
        );
        $crate::__suite_case!(
            isolated,
            submit,
            w3_panics_in_error_conversion_and_display_are_contained,
            $fixture
        );
        $crate::__suite_case!(inline, submit, w4_operation_error_keeps_its_type, $fixture);
        $crate::__suite_case!(inline, cancel, w5_wait_for_times_out_and_cancels, $fixture);
        $crate::__suite_case!(
            inline,
            cancel,
            w5_wait_for_returns_value_or_operation_error,
            $fixture
        );
        $crate::__suite_case!(
            inline,
            submit,
            w6_result_is_send_sync_and_waitable_from_another_thread,
            $fixture
        );
        $crate::__suite_case!(
            inline,
            submit,
            w8_non_send_work_runs_pinned_to_managed_reactor_thread,
            $fixture
        );
        $crate::__suite_case!(inline, wait, e1_timeout_leaves_result_waitable, $fixture);
        $crate::__suite_case!(
            inline,
            wait,
            e2_every_shared_waiter_gets_the_value,
            $fixture
        );
        $crate::__suite_case!(inline, wait, e2_taken_value_is_already_retrieved, $fixture);
        $crate::__suite_case!(
            inline,
            reactor_thread,
            e3_wait_inside_crochet_task_is_wait_in_reactor,
            $fixture
        );
        $crate::__suite_case!(
            inline,
            reactor_thread,
            e3_wait_on_runtime_thread_outside_crochet_task_is_refused,
            $fixture
        );
        $crate::__suite_case!(
            inline,
            reactor_thread,
            e3_wait_for_in_reactor_refuses_before_submitting,
            $fixture
        );
        $crate::__suite_case!(
            inline,
            cancel,
            e4_cancel_completes_pending_and_drops_future,
            $fixture
        );
        $crate::__suite_case!(
            inline,
            cancel,
            e4_cancel_after_completion_keeps_value,
            $fixture
        );
        $crate::__suite_case!(
            inline,
            cancel,
            e4_cancel_from_another_thread_wakes_blocked_waiter,
            $fixture
        );
        $crate::__suite_case!(
            inline,
            wait,
            e5_is_ready_and_try_result_never_block,
            $fixture
        );
        $crate::__suite_case!(
            inline,
            wait,
            e6_result_can_be_awaited_from_async_code,
            $fixture
        );
        $crate::__suite_case!(
            inline,
            wait,
            e7_zero_checks_once_and_huge_timeouts_wait,
            $fixture
        );
        $crate::__suite_case!(
            isolated,
            process,
            e8_sigint_kills_process_blocked_in_wait,
            $fixture
        );
        $crate::__suite_case!(
            inline,
            stash,
            s1_stash_id_round_trips_through_text,
            $fixture
        );
        $crate::__suite_case!(
            inline,
            stash,
            s2_retrieve_returns_result_once_and_restash_gives_new_id,
            $fixture
        );
        $crate::__suite_case!(inline, stash, s3_stash_ids_are_unguessable, $fixture);
        $crate::__suite_case!(
            inline,
            stash,
            s4_bad_ids_and_wrong_types_are_typed_and_lose_nothing,
            $fixture
        );
        $crate::__suite_case!(isolated, stash, s5_full_stash_hands_result_back, $fixture);
        $crate::__suite_case!(
            isolated,
            stash,
            s5_expired_entries_are_dropped_and_logged,
            $fixture
        );
        $crate::__suite_case!(
            isolated,
            logs,
            l1_unobserved_failure_is_logged_once_with_its_origin,
            $fixture
        );
        $crate::__suite_case!(
            isolated,
            logs,
            l1_failure_after_every_handle_is_gone_is_logged,
            $fixture
        );
        $crate::__suite_case!(
            isolated,
            logs,
            l1_observed_cancelled_timed_out_and_stopped_are_not_logged,
            $fixture
        );
        $crate::__suite_case!(
            isolated,
            logs,
            l2_caller_span_follows_work_into_reactor,
            $fixture
        );
        $crate::__suite_case!(
            isolated,
            logs,
            l3_log_crate_users_see_crochet_events,
            $fixture
        );
        $crate::__suite_case!(
            inline,
            logs,
            l4_debug_shows_state_without_blocking,
            $fixture
        );
        $crate::__suite_case!(
            isolated,
            logs,
            l5_failure_hook_replaces_the_report,
            $fixture
        );
        $crate::__suite_case!(
            isolated,
            logs,
            l5_fire_and_forget_failures_reach_the_hook,
            $fixture
        );
        $crate::__suite_case!(
            isolated,
            faults,
            l5_panicking_failure_hook_is_contained_and_work_continues,
            $fixture
        );
        $crate::__suite_case!(
            inline,
            errors,
            x1_errors_are_typed_and_say_what_to_do,
            $fixture
        );
        $crate::__suite_case!(
            inline,
            errors,
            x2_misuse_gives_typed_errors_never_panics,
            $fixture
        );
        $crate::__suite_case!(
            inline,
            faults,
            x2_panicking_clone_reaches_only_its_waiter_and_later_waits_work,
            $fixture
        );
        $crate::__suite_case!(
            inline,
            periodic,
            periodic_runs_now_then_every_period_until_stopped,
            $fixture
        );
        $crate::__suite_case!(
            isolated,
            periodic,
            periodic_survives_failing_and_panicking_ticks,
            $fixture
        );
        $crate::__suite_case!(inline, periodic, periodic_skips_missed_ticks, $fixture);
        $crate::__suite_case!(
            inline,
            periodic,
            periodic_stops_when_dropped_and_at_shutdown,
            $fixture
        );
        $crate::__suite_case!(
            inline,
            stream,
            stream_items_arrive_in_order_and_end,
            $fixture
        );
        $crate::__suite_case!(inline, stream, stream_timeout_loses_no_item, $fixture);
        $crate::__suite_case!(inline, stream, stream_buffer_applies_backpressure, $fixture);
        $crate::__suite_case!(
            inline,
            stream,
            stream_cancel_and_drop_drop_the_stream,
            $fixture
        );
        $crate::__suite_case!(
            inline,
            stream,
            stream_panic_and_shutdown_end_it_with_an_error,
            $fixture
        );
        $crate::__suite_case!(
            inline,
            stream,
            stream_read_on_reactor_thread_is_refused,
            $fixture
        );
        $crate::__suite_case!(inline, stream, stream_try_next_never_blocks, $fixture);
        $crate::__suite_case!(inline, stream, stream_is_fused_after_its_end, $fixture);
        $crate::__suite_case!(
            inline,
            stream,
            stream_buffered_item_is_read_on_reactor_thread,
            $fixture
        );
        $crate::__suite_case!(
            inline,
            select,
            wait_any_returns_the_first_to_finish,
            $fixture
        );
        $crate::__suite_case!(inline, select, wait_all_takes_all_or_nothing, $fixture);
        $crate::__suite_case!(
            inline,
            select,
            waits_on_many_take_any_iterator_of_either_handle,
            $fixture
        );
        $crate::__suite_case!(inline, select, waiting_on_nothing_answers_at_once, $fixture);
        $crate::__suite_case!(
            inline,
            select,
            wait_set_drains_many_results_each_exactly_once,
            $fixture
        );
        $crate::__suite_case!(
            inline,
            select,
            timed_out_wait_set_wait_consumes_nothing,
            $fixture
        );
        $crate::__suite_case!(inline, stats, stats_count_every_outcome, $fixture);
        $crate::__suite_case!(isolated, stats, slow_operations_are_logged, $fixture);
        $crate::__suite_case!(isolated, stats, library_reactors_never_interfere, $fixture);
        $crate::__tokio_compat_case!($fixture);
        $crate::__suite_case!(
            inline,
            reactor_thread,
            e3_wait_in_a_runtime_task_completes_or_is_refused_at_once,
            $fixture
        );
        $crate::__suite_case!(
            inline,
            cancel,
            e4_cancelled_means_the_future_is_gone_and_its_port_free,
            $fixture
        );
        $crate::__suite_case!(
            inline,
            cancel,
            e4_a_value_arrives_after_its_future_is_dropped,
            $fixture
        );
        $crate::__suite_case!(
            inline,
            cancel,
            e4_cancelled_streams_and_shutdown_release_what_they_held,
            $fixture
        );
        $crate::__suite_case!(inline, wait, e9_failure_is_reported_to_every_wait, $fixture);
        $crate::__suite_case!(
            isolated,
            stash,
            s5_stashed_work_never_outlives_its_entry,
            $fixture
        );
        $crate::__suite_case!(
            isolated,
            stash,
            s6_each_reactor_keeps_its_own_stash,
            $fixture
        );
        $crate::__suite_case!(
            isolated,
            process,
            r9_forked_child_never_blocks_on_a_lock_held_at_fork,
            $fixture
        );
        $crate::__suite_case!(
            inline,
            periodic,
            periodic_with_a_huge_period_ticks_once_and_stays_scheduled,
            $fixture
        );
        $crate::__suite_case!(
            isolated,
            periodic,
            periodic_tick_failures_reach_the_failure_hook,
            $fixture
        );
        $crate::__suite_case!(
            inline,
            faults,
            x2_a_clone_that_looks_at_its_own_result_does_not_deadlock,
            $fixture
        );
        $crate::__suite_case!(
            isolated,
            stress,
            stress_every_operation_ends_once_with_a_legal_outcome,
            $fixture
        );
    };
}

/// The cases that need the `tokio-compat` feature, when it is on.
#[cfg(feature = "tokio-compat")]
#[doc(hidden)]
#[macro_export]
macro_rules! __tokio_compat_case {
    ($fixture:expr) => {
        $crate::__suite_case!(
            inline,
            tokio_compat,
            tokio_io_and_timers_work_on_every_backend,
            $fixture
        );
    };
}

/// Without the `tokio-compat` feature: no case.
#[cfg(not(feature = "tokio-compat"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __tokio_compat_case {
    ($fixture:expr) => {};
}
