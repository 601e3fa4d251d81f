package dev.chorus.api.ws;

import dev.chorus.api.auth.CurrentUser;
import dev.chorus.api.stream.OutboundLimits;
import dev.chorus.api.stream.Subscriber;
import java.io.IOException;
import java.util.UUID;
import org.springframework.web.socket.CloseStatus;
import org.springframework.web.socket.PingMessage;
import org.springframework.web.socket.TextMessage;
import org.springframework.web.socket.WebSocketSession;

/**
 * One WebSocket client. Frames are queued and written by the {@link Subscriber} machinery, so a
 * client that stops reading is closed with {@link #SLOW_CONSUMER} instead of growing memory.
 */
final class ClientConnection extends Subscriber {
  /** The close code of a client that fell behind: it reconnects and subscribes with its last id. */
  static final CloseStatus SLOW_CONSUMER =
      new CloseStatus(4008, "slow consumer, resume with after");

  private final WebSocketSession session;
  private volatile CurrentUser user;
  // False for a read-only personal access token: it may subscribe, not send or cancel.
  private volatile boolean canWrite = true;

  ClientConnection(WebSocketSession session, CurrentUser user) {
    super(OutboundLimits.DEFAULT);
    this.session = session;
    this.user = user;
  }

  @Override
  public String id() {
    return session.getId();
  }

  @Override
  public UUID userId() {
    CurrentUser current = user;
    return current == null ? null : current.id();
  }

  CurrentUser user() {
    return user;
  }

  boolean canWrite() {
    return canWrite;
  }

  void authenticate(CurrentUser authenticated, boolean canWrite) {
    this.canWrite = canWrite;
    this.user = authenticated;
  }

  @Override
  protected void write(Outbound item) throws IOException {
    if (item.text() != null) {
      session.sendMessage(new TextMessage(item.text()));
    }
  }

  @Override
  protected void closeSlow() {
    close(SLOW_CONSUMER);
  }

  @Override
  protected void abort() {
    close(CloseStatus.SESSION_NOT_RELIABLE);
  }

  void close(CloseStatus status) {
    markClosed();
    try {
      session.close(status);
    } catch (IOException | IllegalStateException ignored) {
      // Already gone.
    }
  }

  /** A WebSocket ping; browsers answer it with a pong by themselves. */
  void ping() {
    try {
      session.sendMessage(new PingMessage());
    } catch (IOException | IllegalStateException e) {
      close(CloseStatus.SESSION_NOT_RELIABLE);
    }
  }
}
