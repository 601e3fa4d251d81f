package dev.chorus.api.ws;

import java.util.Arrays;
import java.util.Optional;

/**
 * The {@code type}s of the frames this handler reads and of the protocol frames it writes itself
 * (query events and user notices carry theirs in their records). Kept in one place so a test can
 * check that docs/asyncapi.yaml documents every one of them.
 */
final class Frames {
  private Frames() {}

  enum Client {
    AUTH("auth"),
    SUBSCRIBE("subscribe"),
    UNSUBSCRIBE("unsubscribe"),
    SEND_MESSAGE("send_message"),
    CANCEL("cancel"),
    TYPING("typing"),
    PING("ping");

    final String wire;

    Client(String wire) {
      this.wire = wire;
    }

    static Optional<Client> of(String type) {
      return Arrays.stream(values()).filter(c -> c.wire.equals(type)).findFirst();
    }
  }

  enum Server {
    READY("ready"),
    SUBSCRIBED("subscribed"),
    UNSUBSCRIBED("unsubscribed"),
    MESSAGE_ACCEPTED("message_accepted"),
    CANCEL_ACCEPTED("cancel_accepted"),
    PONG("pong"),
    HEARTBEAT("heartbeat"),
    ERROR("error");

    final String wire;

    Server(String wire) {
      this.wire = wire;
    }
  }

  /** The channel a client subscribes to for its conversation list and query status. */
  static final String CONVERSATIONS_CHANNEL = "conversations";

  /** Close codes of the protocol (4000-4999 are the application's own). */
  static final int CLOSE_UNAUTHORIZED = 4401;

  static final int CLOSE_TIMEOUT = 4408;
}
