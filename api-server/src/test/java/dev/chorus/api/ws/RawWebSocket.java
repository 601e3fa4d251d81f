package dev.chorus.api.ws;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A bare RFC 6455 client on a plain socket, for what a friendly client library hides: any Origin
 * header, the handshake's HTTP status, never answering pings, and the close code the server sends.
 */
final class RawWebSocket implements AutoCloseable {
  record Frame(int opcode, byte[] payload) {
    String text() {
      return new String(payload, StandardCharsets.UTF_8);
    }

    /** The status code of a close frame (1005 when it carries none). */
    int closeCode() {
      return payload.length >= 2 ? ((payload[0] & 0xff) << 8) | (payload[1] & 0xff) : 1005;
    }
  }

  static final int CONTINUATION = 0x0;
  static final int TEXT = 0x1;
  static final int CLOSE = 0x8;
  static final int PING = 0x9;

  private static final SecureRandom RANDOM = new SecureRandom();
  private final Socket socket;
  private final DataInputStream in;
  private final OutputStream out;
  final int handshakeStatus;

  /** The handshake response's headers, names in lower case. */
  final Map<String, String> handshakeHeaders = new HashMap<>();

  RawWebSocket(int port, String pathAndQuery, Map<String, String> headers) throws IOException {
    socket = new Socket("127.0.0.1", port);
    socket.setSoTimeout(10_000);
    in = new DataInputStream(socket.getInputStream());
    out = socket.getOutputStream();
    byte[] nonce = new byte[16];
    RANDOM.nextBytes(nonce);
    var request = new StringBuilder();
    request.append("GET ").append(pathAndQuery).append(" HTTP/1.1\r\n");
    request.append("Host: 127.0.0.1:").append(port).append("\r\n");
    request.append("Upgrade: websocket\r\nConnection: Upgrade\r\n");
    request.append("Sec-WebSocket-Version: 13\r\n");
    request.append("Sec-WebSocket-Key: ").append(Base64.getEncoder().encodeToString(nonce));
    request.append("\r\n");
    headers.forEach((k, v) -> request.append(k).append(": ").append(v).append("\r\n"));
    request.append("\r\n");
    out.write(request.toString().getBytes(StandardCharsets.US_ASCII));
    out.flush();
    String statusLine = readLine();
    handshakeStatus = Integer.parseInt(statusLine.split(" ")[1]);
    for (String line = readLine(); !line.isEmpty(); line = readLine()) {
      int colon = line.indexOf(':');
      if (colon > 0) {
        handshakeHeaders.put(
            line.substring(0, colon).trim().toLowerCase(Locale.ROOT),
            line.substring(colon + 1).trim());
      }
    }
  }

  private String readLine() throws IOException {
    var line = new ByteArrayOutputStream();
    int b;
    while ((b = in.read()) != -1 && b != '\n') {
      if (b != '\r') {
        line.write(b);
      }
    }
    return line.toString(StandardCharsets.US_ASCII);
  }

  void sendText(String text) throws IOException {
    sendFrame(true, TEXT, text);
  }

  /** One text message in several frames: the first, continuations, the last with FIN set. */
  void sendFragments(String... parts) throws IOException {
    for (int i = 0; i < parts.length; i++) {
      sendFrame(i == parts.length - 1, i == 0 ? TEXT : CONTINUATION, parts[i]);
    }
  }

  private void sendFrame(boolean fin, int opcode, String text) throws IOException {
    byte[] payload = text.getBytes(StandardCharsets.UTF_8);
    var frame = new ByteArrayOutputStream();
    frame.write((fin ? 0x80 : 0) | opcode);
    if (payload.length < 126) {
      frame.write(0x80 | payload.length);
    } else if (payload.length < 65536) {
      frame.write(0x80 | 126);
      frame.write(payload.length >>> 8);
      frame.write(payload.length & 0xff);
    } else {
      frame.write(0x80 | 127);
      for (int shift = 56; shift >= 0; shift -= 8) {
        frame.write((int) ((long) payload.length >>> shift) & 0xff);
      }
    }
    byte[] mask = new byte[4];
    RANDOM.nextBytes(mask);
    frame.write(mask);
    for (int i = 0; i < payload.length; i++) {
      frame.write(payload[i] ^ mask[i % 4]);
    }
    out.write(frame.toByteArray());
    out.flush();
  }

  Frame read(Duration timeout) throws IOException {
    socket.setSoTimeout((int) Math.max(1, timeout.toMillis()));
    int first = in.readUnsignedByte();
    int second = in.readUnsignedByte();
    long length = second & 0x7f;
    if (length == 126) {
      length = in.readUnsignedShort();
    } else if (length == 127) {
      length = in.readLong();
    }
    byte[] payload = new byte[Math.toIntExact(length)];
    in.readFully(payload);
    return new Frame(first & 0x0f, payload);
  }

  /** Reads (and never answers) frames until the server's close frame; returns its code. */
  int awaitClose(Duration timeout) throws IOException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw new AssertionError("the server did not close within " + timeout);
      }
      try {
        Frame frame = read(Duration.ofNanos(left));
        if (frame.opcode() == CLOSE) {
          return frame.closeCode();
        }
      } catch (SocketTimeoutException e) {
        throw new AssertionError("the server did not close within " + timeout, e);
      }
    }
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
