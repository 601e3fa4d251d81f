package dev.chorus.worker.support;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test class — never skips it — before its Spring context starts when the local stack is
 * not up, with the one thing to do about it. The addresses are those of {@code
 * application-test.yml}.
 */
public class StackRequired implements BeforeAllCallback {
  public static final String HOST = "127.0.0.1";
  public static final int POSTGRES_PORT = 15432;
  public static final int REDIS_PORT = 16379;
  static final String HINT = "start the stack: infra/stack.sh services";
  private static final int TIMEOUT_MS = 2_000;

  @Override
  public void beforeAll(ExtensionContext context) {
    check("PostgreSQL", POSTGRES_PORT, false);
    check("Redis", REDIS_PORT, true);
  }

  private static void check(String what, int port, boolean redisPing) {
    String address = HOST + ":" + port;
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(HOST, port), TIMEOUT_MS);
      if (redisPing) {
        socket.setSoTimeout(TIMEOUT_MS);
        OutputStream out = socket.getOutputStream();
        out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
        InputStream in = socket.getInputStream();
        byte[] reply = new byte[7];
        int n = in.readNBytes(reply, 0, reply.length);
        String answer = new String(reply, 0, n, StandardCharsets.US_ASCII);
        if (!answer.startsWith("+PONG")) {
          fail(what + " at " + address + " answered '" + answer.strip() + "' to PING; " + HINT);
        }
      }
    } catch (IOException e) {
      fail(what + " does not answer at " + address + " (" + e.getMessage() + "); " + HINT);
    }
  }
}
