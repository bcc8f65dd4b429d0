# frozen_string_literal: false
#
# gen_cookies.rb: fresh session cookies made by real Rails, with random
# secrets, random configurations and random session contents, for
# TestDifferentialRails. Adapted from ../../../../shared/testdata/rails/
# gen_cookies.rb (which writes the fixed vectors in cookies.jsonl).
#
#   ruby gen_cookies.rb --seed 42 --count 60 [--out cookies.fresh.jsonl]
#
# Each line has the fields of cookies.jsonl (see the shared README §2),
# plus "secrets": the secret_key_base list herald is configured with
# (current first). Every cookie is written by ActionDispatch's cookie jar,
# through the real CookieStore middleware and Warden (a Devise-style
# sign-in) or the jar directly; then a Rails jar configured like the
# writer, presented with the cookie under the name herald is given, reads
# it back. "expect" and "session" are what Rails answered; the session is
# mapped to JSON by ruby_json.rb (README §1).
#
# Random per case: secret_key_base (and an older or a wrong one), KDF
# digest (SHA1, or SHA256 as Rails 7.0+), format (AES-256-GCM,
# AES-256-CBC+HMAC, signed), use_cookies_with_metadata, serializer (JSON,
# Marshal, hybrid, and Rails 7.1's MessagePack: see MP below), custom
# salts, expiry (none, future, past), the session contents, and one
# mutation: none, a rotated secret, a wrong secret, a flipped bit, or the
# cookie presented under another name.
#
# Seeded: the same seed gives the same secrets, configurations and
# contents. IVs, session ids and CSRF tokens come from OpenSSL/SecureRandom
# and differ between runs; every run is self-consistent.
#
# Needs: Ruby 3.1, Rails 6.1 (actionpack, activesupport), warden, bcrypt.
# Debian: ruby ruby-rails ruby-warden ruby-bcrypt (ruby-devise brings the
# last two).

require "action_dispatch"
require "action_dispatch/middleware/cookies"
require "action_dispatch/middleware/flash"
require "action_dispatch/middleware/session/cookie_store"
require "active_support/all"
require "active_support/messages/rotation_configuration"
require "rack/mock"
require "warden"
require "bcrypt"
require "openssl"
require "base64"
require "cgi"
require "optparse"
require "set"
require "bigdecimal"
require "date"
require_relative "ruby_json"

opts = { seed: Random.new_seed % 2**32, count: 60, out: nil }
OptionParser.new do |o|
  o.on("--seed N", Integer) { |v| opts[:seed] = v }
  o.on("--count N", Integer) { |v| opts[:count] = v }
  o.on("--out FILE") { |v| opts[:out] = v }
end.parse!

RNG = Random.new(opts[:seed])

DEFAULT_SALTS = {
  "signed_cookie_salt" => "signed cookie",
  "encrypted_cookie_salt" => "encrypted cookie",
  "encrypted_signed_cookie_salt" => "signed encrypted cookie",
  "authenticated_encrypted_cookie_salt" => "authenticated encrypted cookie",
}.freeze

# ------------------------------------------------- Rails 7.1 MessagePack
# Rails 6.1 has no :message_pack cookie serializer. MP writes the wire
# format of Rails 7.1's ActiveSupport::MessagePack, as
# ../../../../shared/docs/rails-sessions.md §1.5 and the package's
# msgpack.go describe it: the signature 0xCC 0x80, then one msgpack value,
# Ruby types as extension types. It is handed to Rails 6.1's cookie jar as
# a custom cookies_serializer, so encryption, signing and the envelope are
# Rails' own. On load it returns what Rails 7.1's unpackers rebuild from
# those bytes (the only loss: a Time comes back as
# Time.at(sec, nsec, :nanosecond, in: utc_offset), without its zone name).
module MP
  SIGNATURE = "\xCC\x80".b
  @loaded = {}

  module_function

  def dump(obj)
    bytes = SIGNATURE + pack(obj)
    @loaded[bytes] = as_loaded(obj)
    bytes
  end

  def load(bytes)
    @loaded.fetch(bytes.b) { raise "MP.load: bytes this process did not dump" }
  end

  def ext(type, payload)
    payload = payload.b
    n = payload.bytesize
    head =
      case n
      when 1 then "\xD4".b
      when 2 then "\xD5".b
      when 4 then "\xD6".b
      when 8 then "\xD7".b
      when 16 then "\xD8".b
      else
        if n < 256 then "\xC7".b + [n].pack("C")
        elsif n < 65_536 then "\xC8".b + [n].pack("n")
        else "\xC9".b + [n].pack("N")
        end
      end
    head + [type].pack("c") + payload
  end

  def len(n, fix, fixmax, c16, c32, c8 = nil)
    if n <= fixmax then [fix | n].pack("C")
    elsif c8 && n < 256 then c8 + [n].pack("C")
    elsif n < 65_536 then c16 + [n].pack("n")
    else c32 + [n].pack("N")
    end
  end

  def int(i)
    if i >= 0 && i < 128 then [i].pack("C")
    elsif i < 0 && i >= -32 then [i].pack("c")
    elsif i >= 0 && i < 2**8 then "\xCC".b + [i].pack("C")
    elsif i >= 0 && i < 2**16 then "\xCD".b + [i].pack("n")
    elsif i >= 0 && i < 2**32 then "\xCE".b + [i].pack("N")
    elsif i >= 0 && i < 2**64 then "\xCF".b + [i].pack("Q>")
    elsif i.negative? && i >= -2**7 then "\xD0".b + [i].pack("c")
    elsif i.negative? && i >= -2**15 then "\xD1".b + [i].pack("s>")
    elsif i.negative? && i >= -2**31 then "\xD2".b + [i].pack("l>")
    elsif i.negative? && i >= -2**63 then "\xD3".b + [i].pack("q>")
    else bigint(i)
    end
  end

  # Outside int64/uint64: a sign byte, then 32-bit big-endian chunks,
  # least significant first.
  def bigint(i)
    chunks = []
    m = i.abs
    while m > 0
      chunks << (m & 0xffff_ffff)
      m >>= 32
    end
    ext(1, [i < 0 ? 1 : 0, *chunks].pack("CN*"))
  end

  def rational(r)
    int(r.numerator) + (r.numerator.zero? ? "".b : int(r.denominator))
  end

  def pack(o)
    case o
    when nil then "\xC0".b
    when true then "\xC3".b
    when false then "\xC2".b
    when Integer then int(o)
    when Float then "\xCB".b + [o].pack("G")
    when Symbol then ext(0, o.name)
    when ActiveSupport::SafeBuffer then ext(18, pack(o.to_str))
    when String
      if o.encoding == Encoding::BINARY
        len(o.bytesize, 0, -1, "\xC5".b, "\xC6".b, "\xC4".b) + o.b
      else
        s = o.encode(Encoding::UTF_8).b
        len(s.bytesize, 0xa0, 31, "\xDA".b, "\xDB".b, "\xD9".b) + s
      end
    when Array then len(o.size, 0x90, 15, "\xDC".b, "\xDD".b) + o.map { |e| pack(e) }.join.b
    when ActiveSupport::HashWithIndifferentAccess then ext(17, pack(o.to_h))
    when Hash then len(o.size, 0x80, 15, "\xDE".b, "\xDF".b) + o.map { |k, v| pack(k) + pack(v) }.join.b
    when ActiveSupport::TimeWithZone
      u = o.utc
      ext(8, int(u.tv_sec) + int(u.tv_nsec) + int(u.utc_offset) + pack(o.time_zone.name))
    when Time then ext(7, int(o.tv_sec) + int(o.tv_nsec) + int(o.utc_offset))
    when DateTime
      ext(5, int(o.jd) + int(o.hour) + int(o.min) + int(o.sec) + rational(o.sec_fraction) + rational(o.offset))
    when Date then ext(6, int(o.jd))
    when BigDecimal then ext(2, o._dump)
    when Rational then ext(3, rational(o))
    when Set then ext(12, pack(o.to_a))
    else raise ArgumentError, "MP cannot pack #{o.class}"
    end
  end

  # What Rails 7.1 loads back from pack(o).
  def as_loaded(o)
    case o
    when ActiveSupport::TimeWithZone then ActiveSupport::TimeWithZone.new(o.utc, o.time_zone)
    when Time then Time.at(o.tv_sec, o.tv_nsec, :nanosecond, in: o.utc_offset)
    when ActiveSupport::HashWithIndifferentAccess
      ActiveSupport::HashWithIndifferentAccess.new(o.to_h.transform_values { |v| as_loaded(v) })
    when Hash then o.to_h { |k, v| [as_loaded(k), as_loaded(v)] }
    when Array then o.map { |e| as_loaded(e) }
    when Set then Set.new(o.map { |e| as_loaded(e) })
    when ActiveSupport::SafeBuffer then o
    when String then o.encoding == Encoding::BINARY ? o : o.encode(Encoding::UTF_8)
    else o
    end
  end
end

# ------------------------------------------------------ Devise-like users
User = Struct.new(:id, :encrypted_password) do
  def to_key = [id]
  def authenticatable_salt = encrypted_password[0, 29]
end
Warden::Manager.serialize_into_session(:user) { |record| [record.to_key, record.authenticatable_salt] }

# ------------------------------------------------------------ Rails config
def key_generator(skb, kdf)
  case kdf
  when "sha1"
    ActiveSupport::CachingKeyGenerator.new(ActiveSupport::KeyGenerator.new(skb, iterations: 1000))
  when "sha256" # what key_generator_hash_digest_class = SHA256 does in 7.0+
    Object.new.tap do |kg|
      kg.define_singleton_method(:generate_key) do |salt, len = 64|
        OpenSSL::PKCS5.pbkdf2_hmac(skb, salt, 1000, len, OpenSSL::Digest::SHA256.new)
      end
    end
  else raise ArgumentError, kdf
  end
end

def serializer_setting(s) = s == :message_pack ? MP : s

def rails_env(cfg)
  salts = DEFAULT_SALTS.merge(cfg[:salts] || {})
  {
    "action_dispatch.key_generator" => key_generator(cfg[:skb], cfg[:kdf]),
    "action_dispatch.secret_key_base" => cfg[:skb],
    "action_dispatch.signed_cookie_salt" => salts["signed_cookie_salt"],
    "action_dispatch.encrypted_cookie_salt" => salts["encrypted_cookie_salt"],
    "action_dispatch.encrypted_signed_cookie_salt" => salts["encrypted_signed_cookie_salt"],
    "action_dispatch.authenticated_encrypted_cookie_salt" => salts["authenticated_encrypted_cookie_salt"],
    "action_dispatch.use_authenticated_cookie_encryption" => cfg[:gcm],
    "action_dispatch.use_cookies_with_metadata" => cfg[:metadata],
    "action_dispatch.cookies_serializer" => serializer_setting(cfg[:serializer]),
    "action_dispatch.cookies_rotations" => ActiveSupport::Messages::RotationConfiguration.new,
    "HTTP_HOST" => "example.com",
  }
end

def cookie_from_headers(headers, name)
  Array(headers["Set-Cookie"]).join("\n")[/(?:\A|\n)#{Regexp.escape(name)}=([^;\n]*)/, 1] or
    raise "no #{name} cookie in #{headers["Set-Cookie"].inspect}"
end

# One request through Cookies -> CookieStore -> Warden -> app.
def via_session_store(cfg, cookie_name, expire_after, session, user)
  app = lambda do |env|
    req = ActionDispatch::Request.new(env)
    if user
      env["warden"].set_user(user, scope: :user, event: :authentication)
      env["warden"].session(:user)["last_request_at"] = Time.now.utc.to_i
      req.session[:_csrf_token] = SecureRandom.base64(32)
    end
    session.each { |k, v| req.session[k] = v }
    req.flash[:notice] = "Signed in." if RNG.rand(3).zero?
    req.commit_flash
    [200, { "Content-Type" => "text/plain" }, ["ok"]]
  end
  warden = Warden::Manager.new(app) { |m| m.default_scope = :user }
  store = ActionDispatch::Session::CookieStore.new(warden, key: cookie_name, expire_after: expire_after)
  res = Rack::MockRequest.new(ActionDispatch::Cookies.new(store)).get("/", rails_env(cfg))
  cookie_from_headers(res.headers, cookie_name)
end

def via_jar(cfg, cookie_name, value, jar, expires)
  req = ActionDispatch::Request.new(rails_env(cfg))
  j = jar == :signed ? req.cookie_jar.signed : req.cookie_jar.encrypted
  j[cookie_name] = { value: value, expires: expires, httponly: true }.compact
  headers = {}
  req.cookie_jar.write(headers)
  cookie_from_headers(headers, cookie_name)
end

def rails_read(cfg, cookie_name, cookie_value, jar)
  env = rails_env(cfg).merge("HTTP_COOKIE" => "#{cookie_name}=#{cookie_value}")
  cj = ActionDispatch::Request.new(env).cookie_jar
  jar == :signed ? cj.signed[cookie_name] : cj.encrypted[cookie_name]
end

# The envelope's exp and pur, opened with the writer's keys.
def envelope_of(cfg, jar, cookie_value)
  salts = DEFAULT_SALTS.merge(cfg[:salts] || {})
  kg = key_generator(cfg[:skb], cfg[:kdf])
  raw = CGI.unescape(cookie_value)
  plain =
    if jar == :signed
      Base64.strict_decode64(raw.split("--")[0])
    elsif cfg[:gcm]
      ct, iv, tag = raw.split("--").map { |p| Base64.strict_decode64(p) }
      c = OpenSSL::Cipher.new("aes-256-gcm").decrypt
      c.key = kg.generate_key(salts["authenticated_encrypted_cookie_salt"], 32)
      c.iv = iv
      c.auth_tag = tag
      c.auth_data = ""
      c.update(ct) + c.final
    else
      ct, iv = Base64.strict_decode64(raw.split("--")[0]).split("--").map { |p| Base64.strict_decode64(p) }
      c = OpenSSL::Cipher.new("aes-256-cbc").decrypt
      c.key = kg.generate_key(salts["encrypted_cookie_salt"], 32)
      c.iv = iv
      c.update(ct) + c.final
    end
  return nil unless plain.start_with?('{"_rails":')

  m = JSON.parse(plain)["_rails"]
  { "exp" => m["exp"], "pur" => m["pur"] }
end

# Flips one bit of one part, keeping the base64 canonical (or changes one
# hex digit of an HMAC), so the result is well-formed but not authentic.
def tamper(cookie_value)
  parts = CGI.unescape(cookie_value).split("--")
  i = RNG.rand(parts.size)
  if parts[i].match?(/\A\h+\z/) && parts.size == 2 && i == 1
    j = RNG.rand(parts[i].size)
    parts[i][j] = (parts[i][j] == "0" ? "1" : "0")
  else
    bytes = Base64.strict_decode64(parts[i]).bytes
    bytes = [0] if bytes.empty?
    bytes[RNG.rand(bytes.size)] ^= 1 << RNG.rand(8)
    parts[i] = Base64.strict_encode64(bytes.pack("C*"))
  end
  CGI.escape(parts.join("--"))
end

# ------------------------------------------------------ random contents
STRINGS = ["", "a", "héllo wörld", "✓ done", "🎉🎉", "日本語", "quote\" back\\slash", "tab\tnew\nline",
           "</script><b>&amp;</b>", "\u2028", "ctl\u0001", "x" * 40].freeze

def r_str = RNG.rand(2).zero? ? STRINGS.sample(random: RNG) : Array.new(RNG.rand(1..20)) { RNG.rand(32..126).chr }.join

def r_int(big)
  case RNG.rand(6)
  when 0 then RNG.rand(-40..200)
  when 1 then RNG.rand(-2**31..2**31)
  when 2 then [2**30, -2**30 - 1, 2**62, -2**63, 2**63 - 1, 1_700_000_000].sample(random: RNG)
  when 3 then big ? [2**64, -(2**64), 2**63, 2**70 + 12_345, -(2**100)].sample(random: RNG) : RNG.rand(-2**63..2**63 - 1)
  else RNG.rand(-2**53..2**53)
  end
end

def r_float
  case RNG.rand(5)
  when 0 then [0.0, -0.0, 1.5, 1e100, 1e-300, 1e15, 0.0001, 0.1 + 0.2].sample(random: RNG)
  else (RNG.rand - 0.5) * 10**RNG.rand(-8..20)
  end
end

def r_time
  t = Time.at(RNG.rand(0..4_000_000_000), RNG.rand(0..999_999_999), :nanosecond)
  case RNG.rand(3)
  when 0 then t.utc
  when 1 then t.getlocal(RNG.rand(-12..12) * 3600)
  else t
  end
end

# mode: :json, :marshal or :message_pack
def r_value(mode, depth = 0)
  kinds = %i[str str int float nil bool sym]
  kinds += %i[array hash] if depth < 3
  kinds += %i[time] unless mode == :json
  kinds += %i[bignum hwia binary date bigdecimal rational set special_float] unless mode == :json
  kinds += %i[latin1] if mode == :marshal
  kinds += %i[twz datetime safebuffer] if mode == :message_pack
  case kinds.sample(random: RNG)
  when :str then r_str
  when :int then r_int(false)
  when :bignum then r_int(true)
  when :float then r_float
  when :special_float then [Float::NAN, Float::INFINITY, -Float::INFINITY].sample(random: RNG)
  when :nil then nil
  when :bool then RNG.rand(2).zero?
  when :sym then %i[en de user admin ünïcode].sample(random: RNG)
  when :array then Array.new(RNG.rand(0..4)) { r_value(mode, depth + 1) }
  when :hash then r_hash(mode, depth + 1)
  when :hwia then ActiveSupport::HashWithIndifferentAccess.new(r_hash(mode, depth + 1, keys: :string))
  when :time then r_time
  when :twz then ActiveSupport::TimeZone[%w[UTC America/New_York Europe/Berlin].sample(random: RNG)].at(RNG.rand(0..4_000_000_000))
  when :binary then [RNG.bytes(RNG.rand(0..8)), "ab".b].sample(random: RNG)
  when :latin1 then "caf\xE9".force_encoding(Encoding::ISO_8859_1)
  when :date then Date.jd(RNG.rand(2_400_000..2_500_000))
  when :datetime
    DateTime.jd(RNG.rand(2_400_000..2_500_000), RNG.rand(0..23), RNG.rand(0..59), RNG.rand(0..59) + Rational(RNG.rand(0..999), 1000),
                Rational(RNG.rand(-12..12), 24))
  when :bigdecimal then BigDecimal(%w[1.5 -0.5e-10 123.456 1e20 0].sample(random: RNG))
  when :rational then Rational(RNG.rand(-100..100), RNG.rand(1..100))
  when :set then Set.new(Array.new(RNG.rand(0..3)) { [r_str, RNG.rand(-50..50)].sample(random: RNG) })
  when :safebuffer then ActiveSupport::SafeBuffer.new("<b>#{r_str}</b>")
  end
end

def r_hash(mode, depth, keys: :any)
  h = {}
  RNG.rand(0..4).times do
    k =
      if keys == :string || mode == :json then "k#{RNG.rand(1000)}"
      else ["k#{RNG.rand(1000)}", :"s#{RNG.rand(1000)}", RNG.rand(-50..50)].sample(random: RNG)
      end
    h[k] = r_value(mode, depth)
  end
  # Keys that would map to the same JSON text ("1" and 1) are outside README §1.
  h.group_by { |k, _| k.to_s }.values.map(&:first).to_h
end

def r_session(mode)
  s = { "session_id" => SecureRandom.hex(16) }
  RNG.rand(0..5).times { s["key#{RNG.rand(10_000)}"] = r_value(mode) }
  s["user_id"] = RNG.rand(1..10**6) if RNG.rand(3).zero?
  s
end

# ----------------------------------------------------------- one case
def random_secret = RNG.bytes(64).unpack1("H*")

def salts_of(cfg) = DEFAULT_SALTS.merge(cfg[:salts] || {})

def build_case(n)
  serializer = %i[json json marshal hybrid message_pack].sample(random: RNG)
  mode = { json: :json, hybrid: :json, marshal: :marshal, message_pack: :message_pack }[serializer]
  writer = {
    skb: random_secret,
    kdf: %w[sha1 sha256].sample(random: RNG),
    gcm: RNG.rand(3).positive?,
    metadata: RNG.rand(4).positive?,
    serializer: serializer,
  }
  if RNG.rand(4).zero?
    writer[:salts] = DEFAULT_SALTS.keys.sample(RNG.rand(1..4), random: RNG).to_h { |k| [k, "#{k} #{RNG.rand(10**6)}"] }
  end
  jar = RNG.rand(5).zero? ? :signed : :encrypted
  cookie_name = "_app#{RNG.rand(1000)}_session"
  expiry = %i[none none none future past].sample(random: RNG)
  mutation = %i[none none none rotated wrong_key tampered renamed].sample(random: RNG)

  value = nil
  4.times do |attempt|
    session = r_session(mode)
    session = session.first(2).to_h if attempt.positive? # smaller after a CookieOverflow
    user = RNG.rand(2).zero? ? User.new(RNG.rand(1..10**6), BCrypt::Password.create("pw", cost: 4)) : nil
    begin
      value =
        if jar == :encrypted && expiry != :past && RNG.rand(3).positive?
          via_session_store(writer, cookie_name, expiry == :future ? RNG.rand(60..10**8) : nil, session, user)
        else
          expires = { none: nil, future: Time.now + RNG.rand(60..10**8), past: Time.now - RNG.rand(1..10**8) }[expiry]
          via_jar(writer, cookie_name, session, jar, expires)
        end
      break
    rescue ActionDispatch::Cookies::CookieOverflow
      next
    end
  end
  raise "case #{n}: cookie overflow" unless value

  envelope = envelope_of(writer, jar, value)
  reader = writer
  secrets = [writer[:skb]]
  presented_as = cookie_name
  case mutation
  when :rotated then secrets = [random_secret, writer[:skb]]
  when :wrong_key
    secrets = [random_secret]
    reader = writer.merge(skb: secrets[0])
  when :tampered then value = tamper(value)
  when :renamed then presented_as = "_other#{RNG.rand(1000)}_session"
  end

  got = rails_read(reader, presented_as, value, jar)
  expect = got.nil? ? "reject" : "ok"
  reason = nil
  if got.nil?
    reason =
      if %i[wrong_key tampered].include?(mutation) then "bad_signature"
      elsif envelope && envelope["exp"] && Time.iso8601(envelope["exp"]) <= Time.now then "expired"
      elsif envelope && envelope["pur"] && envelope["pur"] != "cookie.#{presented_as}" then "wrong_purpose"
      else raise "case #{n}: Rails rejected it for no known reason"
      end
  end
  uid, = RubyJSON.user_id_of(got)
  {
    "name" => "fresh_#{n}_#{mutation}_#{jar == :signed ? "signed" : writer[:gcm] ? "gcm" : "cbc"}_#{serializer}_#{writer[:kdf]}",
    "secret_key_base" => writer[:skb],
    "secrets" => secrets,
    "kdf_digest" => writer[:kdf],
    "kdf_iterations" => 1000,
    "salts" => salts_of(writer),
    "rotations" => [],
    "cookie_name" => presented_as,
    "cookie_value" => value,
    "cipher" => jar == :signed ? "signed-hmac-sha1" : writer[:gcm] ? "aes-256-gcm" : "aes-256-cbc+hmac-sha1",
    "serializer" => serializer.to_s,
    "written_by" => {
      "secret_key_base" => writer[:skb], "kdf_digest" => writer[:kdf], "serializer" => serializer.to_s,
      "use_authenticated_cookie_encryption" => writer[:gcm], "use_cookies_with_metadata" => writer[:metadata],
      "cookie_name" => cookie_name, "salts" => salts_of(writer),
    },
    "envelope" => envelope,
    "mutation" => mutation.to_s,
    "expect" => expect,
    "reject_reason" => reason,
    "session" => got.nil? ? nil : RubyJSON.map(got),
    "user_id" => uid,
  }
end

lines = Array.new(opts[:count]) { |n| build_case(n) }
out = opts[:out] ? File.open(opts[:out], "w") : $stdout
lines.each { |l| out.puts JSON.generate(l) }
out.close if opts[:out]
warn "gen_cookies.rb: seed #{opts[:seed]}, #{lines.size} cookies (#{lines.count { |l| l["expect"] == "ok" }} ok)"
