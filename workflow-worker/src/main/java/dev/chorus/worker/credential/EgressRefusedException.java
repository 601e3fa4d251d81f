package dev.chorus.worker.credential;

import java.net.UnknownHostException;

/**
 * A connection to a user-supplied endpoint was refused by the egress policy. It is an {@link
 * UnknownHostException} so OkHttp treats it like a host that cannot be reached; it is never worth a
 * retry. The message says which address was refused and why.
 */
public class EgressRefusedException extends UnknownHostException {
  public EgressRefusedException(String message) {
    super(message);
  }
}
