package dev.chorus.worker.provider;

/**
 * Lets a provider close its connection the moment the activity is cancelled: a thread blocked in a
 * socket read does not notice an interrupt, but it does notice its call being cancelled.
 */
public interface Cancellation {
  Cancellation NONE =
      new Cancellation() {
        @Override
        public void onCancel(Runnable closer) {}

        @Override
        public boolean isCancelled() {
          return Thread.currentThread().isInterrupted();
        }
      };

  /** Runs {@code closer} when cancellation is requested, at once if it already was. */
  void onCancel(Runnable closer);

  boolean isCancelled();
}
