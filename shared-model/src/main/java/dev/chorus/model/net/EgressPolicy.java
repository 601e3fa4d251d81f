package dev.chorus.model.net;

import java.math.BigInteger;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Decides whether Chorus may connect to a user-supplied base URL (server-side request forgery
 * protection).
 *
 * <p>A URL is allowed when it is plain {@code http}/{@code https} with a host and no user info or
 * fragment, and <em>every</em> address its host resolves to is a public unicast address: not
 * loopback, unspecified, link-local (cloud metadata included), private, shared (CGNAT),
 * unique-local, site-local, multicast, broadcast, reserved, documentation or benchmarking — and no
 * IPv6 form that embeds such an IPv4 address (IPv4-mapped, -compatible, -translated, NAT64, 6to4,
 * Teredo). Hosts that only look like numbers in a non-standard notation ({@code 2130706433}, {@code
 * 0177.0.0.1}, {@code 0x7f.0.0.1}, {@code 127.1}) are rejected outright: resolvers disagree on what
 * they mean, so no answer checked here is safe to trust at connect time.
 *
 * <p>An operator allowlist of host names and address ranges (CIDR, IPv4 and IPv6) overrides the
 * address rules, e.g. for a local model server on {@code 127.0.0.1}. Checking a URL when it is
 * stored is not enough against DNS rebinding: the client that connects must check again with {@link
 * #isAllowed(InetAddress)} (or {@link #isAllowed(String, InetAddress)}) on the addresses it
 * actually uses.
 */
public final class EgressPolicy {
  /** Resolves a host name to all its addresses; the default is {@link InetAddress#getAllByName}. */
  @FunctionalInterface
  public interface Resolver {
    InetAddress[] resolve(String host) throws UnknownHostException;
  }

  public static final Resolver SYSTEM_RESOLVER = InetAddress::getAllByName;

  /** The answer of a check. */
  public sealed interface Verdict permits Allowed, Rejected {
    default boolean allowed() {
      return this instanceof Allowed;
    }
  }

  /**
   * @param addresses what the host resolved to (empty for an allowlisted host name, which is not
   *     resolved)
   */
  public record Allowed(List<InetAddress> addresses) implements Verdict {
    public Allowed {
      addresses = List.copyOf(addresses);
    }
  }

  /**
   * @param reason a sentence for the user, e.g. "base URL resolves to a private address 10.0.0.5;
   *     ask an operator to allowlist it"
   */
  public record Rejected(String reason) implements Verdict {}

  private static final String ASK = "; ask an operator to allowlist it";
  private static final Pattern NUMERIC_LABEL = Pattern.compile("[0-9]+|0[xX][0-9a-fA-F]*");
  private static final Pattern CANONICAL_V4 =
      Pattern.compile("(0|[1-9][0-9]{0,2})(\\.(0|[1-9][0-9]{0,2})){3}");
  private static final Pattern HOST_NAME =
      Pattern.compile("[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*");

  private final Set<String> allowedHosts;
  private final List<Cidr> allowedRanges;
  private final Resolver resolver;

  /**
   * @param allowlist host names, addresses and CIDR ranges ({@code lmstudio.local}, {@code
   *     127.0.0.1}, {@code 10.0.0.0/8}, {@code fd00::/8}); blank entries are ignored
   * @throws IllegalArgumentException for an entry that is none of these
   */
  public EgressPolicy(Collection<String> allowlist, Resolver resolver) {
    this.resolver = resolver;
    Set<String> hosts = new LinkedHashSet<>();
    List<Cidr> ranges = new ArrayList<>();
    for (String raw : allowlist == null ? List.<String>of() : allowlist) {
      if (raw == null || raw.isBlank()) {
        continue;
      }
      String entry = raw.strip().toLowerCase(Locale.ROOT);
      int slash = entry.indexOf('/');
      if (slash >= 0) {
        ranges.add(Cidr.parse(entry, slash));
        continue;
      }
      InetAddress literal = strictLiteral(unbracket(entry));
      if (literal != null) {
        ranges.add(new Cidr(literal.getAddress(), literal.getAddress().length * 8));
      } else {
        String host = normalizeName(entry);
        if (!HOST_NAME.matcher(host).matches() || looksNumeric(host)) {
          throw new IllegalArgumentException(
              "egress allowlist entry '"
                  + raw.strip()
                  + "' is not a host name, an address in standard notation or a CIDR range");
        }
        hosts.add(host);
      }
    }
    this.allowedHosts = Set.copyOf(hosts);
    this.allowedRanges = List.copyOf(ranges);
  }

  /** A policy with the system resolver. */
  public static EgressPolicy of(Collection<String> allowlist) {
    return new EgressPolicy(allowlist, SYSTEM_RESOLVER);
  }

  /** Checks a base URL as typed by a user. */
  public Verdict check(String url) {
    if (url == null || url.isBlank()) {
      return new Rejected("base URL is empty");
    }
    try {
      return check(new URI(url.strip()));
    } catch (URISyntaxException e) {
      return new Rejected("base URL is not a valid URL");
    }
  }

  /** Checks a base URL, resolving its host through the resolver unless it is an IP literal. */
  public Verdict check(URI uri) {
    if (uri == null) {
      return new Rejected("base URL is empty");
    }
    if (!uri.isAbsolute() || uri.isOpaque()) {
      return new Rejected("base URL must be an absolute http:// or https:// URL");
    }
    String scheme = uri.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("http") && !scheme.equals("https")) {
      return new Rejected("base URL must use http or https");
    }
    if (uri.getRawUserInfo() != null) {
      return new Rejected("base URL must not contain user info (user:password@)");
    }
    if (uri.getRawFragment() != null) {
      return new Rejected("base URL must not contain a fragment (#...)");
    }
    if (uri.getHost() == null) {
      // java.net.URI gives no host for some numeric forms (127.1, 0x7f.0.0.1): say what they mean.
      String authority = uri.getRawAuthority();
      String candidate = authority == null ? "" : authority.replaceFirst(":[0-9]*$", "");
      return new Rejected(
          candidate.isEmpty()
              ? "base URL needs a host"
              : hostProblem(candidate).orElse("base URL needs a valid host name"));
    }
    return checkHost(uri.getHost());
  }

  /** Checks a host (name, IPv4 literal, IPv6 literal with or without brackets). */
  public Verdict checkHost(String host) {
    Optional<String> problem = hostProblem(host);
    if (problem.isPresent()) {
      return new Rejected(problem.get());
    }
    String bare = unbracket(host.strip());
    InetAddress literal = strictLiteral(bare);
    if (literal != null) {
      return whyBlocked(literal)
          .<Verdict>map(why -> new Rejected("base URL points to " + why + ASK))
          .orElseGet(() -> new Allowed(List.of(literal)));
    }
    String name = normalizeName(bare);
    if (allowedHosts.contains(name)) {
      return new Allowed(List.of());
    }
    InetAddress[] addresses;
    try {
      addresses = resolver.resolve(name);
    } catch (UnknownHostException | RuntimeException e) {
      return new Rejected("base URL host '" + name + "' does not resolve");
    }
    if (addresses == null || addresses.length == 0) {
      return new Rejected("base URL host '" + name + "' does not resolve");
    }
    for (InetAddress address : addresses) {
      Optional<String> why = whyBlocked(address);
      if (why.isPresent()) {
        return new Rejected("base URL host '" + name + "' resolves to " + why.get() + ASK);
      }
    }
    return new Allowed(Arrays.asList(addresses));
  }

  /**
   * What is wrong with a host before any resolution: empty, a zone id, an invalid IPv6 literal, or
   * a number in a non-standard IPv4 notation. Empty when the host may be resolved.
   */
  public Optional<String> hostProblem(String host) {
    if (host == null || host.isBlank()) {
      return Optional.of("base URL needs a host");
    }
    String bare = unbracket(host.strip());
    if (bare.indexOf('%') >= 0) {
      return Optional.of("base URL host must not contain a zone id (%)");
    }
    if (bare.indexOf(':') >= 0) {
      return strictLiteral(bare) == null
          ? Optional.of("base URL host '" + bare + "' is not a valid IPv6 address")
          : Optional.empty();
    }
    String name = bare.toLowerCase(Locale.ROOT);
    if (!looksNumeric(name) || CANONICAL_V4.matcher(name).matches() && validOctets(name)) {
      return Optional.empty();
    }
    long value = legacyIpv4(stripTrailingDot(name).split("\\.", -1));
    if (value < 0) {
      return Optional.of("base URL host '" + bare + "' is not a valid host name or IPv4 address");
    }
    InetAddress meant = v4((int) value);
    String dotted = meant.getHostAddress();
    return Optional.of(
        whyBlocked(meant)
            .map(why ->
                "base URL host '"
                    + bare
                    + "' is a non-standard notation for "
                    + why
                    + "; such hosts are not allowed")
            .orElse(
                "base URL host '"
                    + bare
                    + "' is a non-standard notation for "
                    + dotted
                    + "; write it as "
                    + dotted));
  }

  /** Whether a host name (not an address) is on the operator's allowlist. */
  public boolean isAllowlistedHost(String host) {
    return host != null && allowedHosts.contains(normalizeName(unbracket(host.strip())));
  }

  /** Whether a connection to this address is allowed (allowlisted, or public). */
  public boolean isAllowed(InetAddress address) {
    return whyBlocked(address).isEmpty();
  }

  /**
   * Whether a connection to {@code address}, reached by resolving {@code host}, is allowed: an
   * allowlisted host name may resolve to anything, otherwise the address itself must be allowed.
   */
  public boolean isAllowed(String host, InetAddress address) {
    return isAllowlistedHost(host) || isAllowed(address);
  }

  /**
   * Why a connection to this address is not allowed, e.g. "a private address 10.0.0.5"; empty when
   * it is.
   */
  public Optional<String> whyBlocked(InetAddress address) {
    byte[] bytes = address.getAddress();
    if (isAllowlisted(bytes)) {
      return Optional.empty();
    }
    if (bytes.length == 4) {
      return Optional.ofNullable(v4Label(bytes))
          .map(label -> label + " " + address.getHostAddress());
    }
    if (isZero(bytes, 0, 16)) {
      return Optional.of("the unspecified address " + address.getHostAddress());
    }
    if (isZero(bytes, 0, 15) && bytes[15] == 1) {
      return Optional.of("a loopback address " + address.getHostAddress());
    }
    List<byte[]> embedded = embeddedV4(bytes);
    for (byte[] v4 : embedded) {
      Optional<String> why = whyBlocked(v4(v4));
      if (why.isPresent()) {
        return Optional.of(address.getHostAddress() + ", which embeds " + why.get());
      }
    }
    if (!embedded.isEmpty()) {
      return Optional.empty();
    }
    return Optional.ofNullable(v6Label(bytes)).map(label -> label + " " + address.getHostAddress());
  }

  private boolean isAllowlisted(byte[] address) {
    for (Cidr range : allowedRanges) {
      if (range.contains(address)) {
        return true;
      }
    }
    return false;
  }

  // --- address classes ---

  private record V4Range(int network, int prefix, String label) {
    static V4Range of(String dotted, int prefix, String label) {
      String[] parts = dotted.split("\\.");
      int value = 0;
      for (String part : parts) {
        value = (value << 8) | Integer.parseInt(part);
      }
      return new V4Range(value, prefix, label);
    }

    boolean contains(int address) {
      return ((address ^ network) >>> (32 - prefix)) == 0 || prefix == 0;
    }
  }

  // Most specific first: the first match names the address in messages.
  private static final List<V4Range> BLOCKED_V4 =
      List.of(
          V4Range.of("169.254.169.254", 32, "the cloud metadata address"),
          V4Range.of("255.255.255.255", 32, "the broadcast address"),
          V4Range.of("0.0.0.0", 8, "an unspecified (\"this network\") address"),
          V4Range.of("127.0.0.0", 8, "a loopback address"),
          V4Range.of("10.0.0.0", 8, "a private address"),
          V4Range.of("172.16.0.0", 12, "a private address"),
          V4Range.of("192.168.0.0", 16, "a private address"),
          V4Range.of("100.64.0.0", 10, "a shared (carrier-grade NAT) address"),
          V4Range.of("169.254.0.0", 16, "a link-local address"),
          V4Range.of("192.0.0.0", 24, "an IETF protocol assignment address"),
          V4Range.of("192.0.2.0", 24, "a documentation address"),
          V4Range.of("198.51.100.0", 24, "a documentation address"),
          V4Range.of("203.0.113.0", 24, "a documentation address"),
          V4Range.of("192.88.99.0", 24, "a reserved (6to4 relay) address"),
          V4Range.of("198.18.0.0", 15, "a benchmarking address"),
          V4Range.of("224.0.0.0", 4, "a multicast address"),
          V4Range.of("240.0.0.0", 4, "a reserved address"));

  private static String v4Label(byte[] b) {
    int address =
        ((b[0] & 0xff) << 24) | ((b[1] & 0xff) << 16) | ((b[2] & 0xff) << 8) | b[3] & 0xff;
    for (V4Range range : BLOCKED_V4) {
      if (range.contains(address)) {
        return range.label();
      }
    }
    return null;
  }

  private static final List<Cidr> V6_RANGES = new ArrayList<>();
  private static final List<String> V6_LABELS = new ArrayList<>();

  static {
    v6("64:ff9b:1::", 48, "a local-use NAT64 address");
    v6("fe80::", 10, "a link-local address");
    v6("fec0::", 10, "a site-local address");
    v6("fc00::", 7, "a unique-local address");
    v6("ff00::", 8, "a multicast address");
    v6("100::", 64, "a discard-only address");
    v6("2001:db8::", 32, "a documentation address");
    v6("3fff::", 20, "a documentation address");
    v6("2001:2::", 48, "a benchmarking address");
    v6("::", 8, "a reserved address");
  }

  private static void v6(String network, int prefix, String label) {
    V6_RANGES.add(Cidr.parse(network + "/" + prefix, network.length()));
    V6_LABELS.add(label);
  }

  private static String v6Label(byte[] b) {
    for (int i = 0; i < V6_RANGES.size(); i++) {
      if (V6_RANGES.get(i).contains(b)) {
        return V6_LABELS.get(i);
      }
    }
    return null;
  }

  /** The IPv4 addresses an IPv6 address carries (and a network would reach through it). */
  private static List<byte[]> embeddedV4(byte[] b) {
    List<byte[]> out = new ArrayList<>();
    boolean ffff10 = (b[10] & 0xff) == 0xff && (b[11] & 0xff) == 0xff;
    if (isZero(b, 0, 10) && ffff10) {
      out.add(Arrays.copyOfRange(b, 12, 16)); // IPv4-mapped ::ffff:a.b.c.d
    } else if (isZero(b, 0, 8)
        && (b[8] & 0xff) == 0xff
        && (b[9] & 0xff) == 0xff
        && isZero(b, 10, 12)) {
      out.add(Arrays.copyOfRange(b, 12, 16)); // IPv4-translated ::ffff:0:a.b.c.d
    } else if (isZero(b, 0, 12)) {
      out.add(Arrays.copyOfRange(b, 12, 16)); // IPv4-compatible ::a.b.c.d
    } else if (b[0] == 0
        && b[1] == 0x64
        && (b[2] & 0xff) == 0xff
        && (b[3] & 0xff) == 0x9b
        && isZero(b, 4, 12)) {
      out.add(Arrays.copyOfRange(b, 12, 16)); // NAT64 64:ff9b::a.b.c.d
    } else if (b[0] == 0x20 && b[1] == 0x02) {
      out.add(Arrays.copyOfRange(b, 2, 6)); // 6to4 2002:aabb:ccdd::
    } else if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0 && b[3] == 0) {
      out.add(Arrays.copyOfRange(b, 4, 8)); // Teredo server
      byte[] client = Arrays.copyOfRange(b, 12, 16);
      for (int i = 0; i < 4; i++) {
        client[i] = (byte) ~client[i]; // Teredo client, stored inverted
      }
      out.add(client);
    }
    return out;
  }

  // --- host syntax ---

  /** Per the URL standard, a host whose last label is a number is an IPv4 address (or invalid). */
  private static boolean looksNumeric(String host) {
    String[] labels = stripTrailingDot(host).split("\\.", -1);
    return NUMERIC_LABEL.matcher(labels[labels.length - 1]).matches();
  }

  private static boolean validOctets(String dotted) {
    for (String part : dotted.split("\\.")) {
      if (Integer.parseInt(part) > 255) {
        return false;
      }
    }
    return true;
  }

  /**
   * What inet_aton(3) and browsers make of a numeric host: 1 to 4 parts, each decimal, octal
   * (leading 0) or hex (0x), the last filling the remaining bytes. -1 when invalid.
   */
  private static long legacyIpv4(String[] parts) {
    if (parts.length == 0 || parts.length > 4) {
      return -1;
    }
    long value = 0;
    for (int i = 0; i < parts.length; i++) {
      BigInteger part = number(parts[i]);
      boolean last = i == parts.length - 1;
      BigInteger limit = BigInteger.ONE.shiftLeft(last ? 8 * (4 - i) : 8);
      if (part == null || part.compareTo(limit) >= 0) {
        return -1;
      }
      value = last ? (value << (8 * (4 - i))) | part.longValue() : (value << 8) | part.longValue();
    }
    return value;
  }

  private static BigInteger number(String part) {
    if (part.isEmpty() || part.length() > 64) {
      return null;
    }
    try {
      if (part.startsWith("0x") || part.startsWith("0X")) {
        return part.length() == 2 ? BigInteger.ZERO : new BigInteger(part.substring(2), 16);
      }
      if (part.length() > 1 && part.charAt(0) == '0') {
        return new BigInteger(part.substring(1), 8);
      }
      return new BigInteger(part, 10);
    } catch (NumberFormatException e) {
      return null;
    }
  }

  /** An IPv4 address in standard dotted-decimal notation or an IPv6 literal; null otherwise. */
  private static InetAddress strictLiteral(String host) {
    if (host.indexOf(':') >= 0) {
      if (host.indexOf('%') >= 0) {
        return null;
      }
      try {
        // Brackets make the JDK parse an IPv6 literal and never ask DNS.
        return InetAddress.getByName("[" + host + "]");
      } catch (UnknownHostException e) {
        return null;
      }
    }
    if (CANONICAL_V4.matcher(host).matches() && validOctets(host)) {
      String[] parts = host.split("\\.");
      byte[] bytes = new byte[4];
      for (int i = 0; i < 4; i++) {
        bytes[i] = (byte) Integer.parseInt(parts[i]);
      }
      return v4(bytes);
    }
    return null;
  }

  private static InetAddress v4(int value) {
    return v4(
        new byte[] {
          (byte) (value >>> 24), (byte) (value >>> 16), (byte) (value >>> 8), (byte) value
        });
  }

  private static InetAddress v4(byte[] bytes) {
    try {
      return InetAddress.getByAddress(bytes);
    } catch (UnknownHostException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String unbracket(String host) {
    return host.length() >= 2 && host.startsWith("[") && host.endsWith("]")
        ? host.substring(1, host.length() - 1)
        : host;
  }

  private static String stripTrailingDot(String host) {
    return host.length() > 1 && host.endsWith(".") ? host.substring(0, host.length() - 1) : host;
  }

  private static String normalizeName(String host) {
    return stripTrailingDot(host.toLowerCase(Locale.ROOT));
  }

  private static boolean isZero(byte[] b, int from, int to) {
    for (int i = from; i < to; i++) {
      if (b[i] != 0) {
        return false;
      }
    }
    return true;
  }

  /** An address range; matches addresses of its own family only. */
  private record Cidr(byte[] network, int prefix) {
    static Cidr parse(String entry, int slash) {
      String invalid = "egress allowlist entry '" + entry + "' is not a valid CIDR range";
      InetAddress address = strictLiteral(unbracket(entry.substring(0, slash)));
      if (address == null) {
        throw new IllegalArgumentException(invalid);
      }
      int bits = address.getAddress().length * 8;
      int prefix;
      try {
        prefix = Integer.parseInt(entry.substring(slash + 1));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(invalid);
      }
      if (prefix < 0 || prefix > bits) {
        throw new IllegalArgumentException(invalid + " (prefix must be 0-" + bits + ")");
      }
      return new Cidr(address.getAddress(), prefix);
    }

    boolean contains(byte[] address) {
      if (address.length != network.length) {
        return false;
      }
      int full = prefix / 8;
      for (int i = 0; i < full; i++) {
        if (address[i] != network[i]) {
          return false;
        }
      }
      int rest = prefix % 8;
      if (rest == 0) {
        return true;
      }
      int mask = (0xff << (8 - rest)) & 0xff;
      return (address[full] & mask) == (network[full] & mask);
    }

    @Override
    public boolean equals(Object other) {
      return other instanceof Cidr c && prefix == c.prefix && Arrays.equals(network, c.network);
    }

    @Override
    public int hashCode() {
      return 31 * Arrays.hashCode(network) + prefix;
    }

    @Override
    public String toString() {
      return Arrays.toString(network) + "/" + prefix;
    }
  }
}
