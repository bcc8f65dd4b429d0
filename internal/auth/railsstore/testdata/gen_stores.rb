# frozen_string_literal: false
#
# gen_stores.rb: has real Rails server-side session stores write fresh
# sessions, with random configurations and contents, into a Redis that the
# caller names, and prints one JSON line per session saying where it is and
# what a reader must find there. Adapted from
# ../shared/testdata/rails/gen_stores.rb (which writes the fixed vectors).
#
#   ruby gen_stores.rb --seed 42 --count 40 --redis redis://127.0.0.1:6390/0 \
#        [--namespace test:abc:] [--out FILE]
#
# Stores (chosen in turn, their options at random):
#   - redis-actionpack 5.3.0 (ActionDispatch::Session::RedisStore on
#     redis-rack and redis-store): Marshal, or serializer: JSON;
#   - ActionDispatch::Session::CacheStore on ActiveSupport::Cache::
#     RedisCacheStore (Rails 6.1) with
#       * its own coder: the 6.1 cache format, a Marshal'ed Entry, zlib-
#         compressed from 1 KiB;
#       * the 7.0 and 7.1 cache formats: Rails 6.1 cannot write these, so
#         the coders below are the Rails 7.0 (cache.rb Coders::Rails70Coder)
#         and 7.1 (cache/coder.rb Coder with the :marshal_7_1 serializer
#         and Zlib) code, copied and adapted to 6.1's Entry, and passed to
#         the real RedisCacheStore as its coder: the bytes are still written
#         by the real store, Marshal and Zlib; only the framing is ported.
#   - redis-session-store 0.11.6 (:marshal, :json, :hybrid) when it loads:
#     it has no Debian package; put the lib/ folder of a checkout (tag
#     v0.11.6) in REDIS_SESSION_STORE_LIB, or install the gem.
# Some sessions are then moved to the legacy public-id key (what stores
# wrote before CVE-2019-16782), which every store still reads.
#
# Each request runs ActionDispatch::Cookies -> the store -> Warden::Manager
# -> an app that signs a user in the way Devise does (or sets user_id, or
# no user) and stores random values. The script checks that the key is
# where the documented prefix says, reads the session back through the
# store, and only then prints the line:
#
#   name, store, format, note, cookie_name, cookie_value, public_session_id,
#   key_prefix (what an operator configures), key_uses (private_id or
#   public_id), redis_key, value_hex, ttl_seconds, devise_scope,
#   expect_session (README §1 mapping for Marshal stores; the stored JSON,
#   parsed, for JSON stores), expect ("ok" or "reject"), user_id (the id
#   as a JSON string or number, or null), user_id_source
#
# Needs: Debian ruby ruby-rails ruby-warden ruby-redis ruby-redis-actionpack.

require "optparse"
require "uri"
require "digest"
require "zlib"
require "redis"
require "action_dispatch"
require "action_dispatch/middleware/cookies"
require "action_dispatch/middleware/flash"
require "action_dispatch/middleware/session/cache_store"
require "active_support/all"
require "active_support/cache/redis_cache_store"
require "active_support/messages/rotation_configuration"
require "redis-actionpack"
require "rack/mock"
require "warden"
require "securerandom"
require "set"
require "bigdecimal"
require "date"
require_relative "ruby_json"

opts = { seed: Random.new_seed % (2**31), count: 40, redis: ENV["HERALD_TEST_REDIS"], namespace: "", out: nil }
OptionParser.new do |o|
  o.on("--seed N", Integer) { |v| opts[:seed] = v }
  o.on("--count N", Integer) { |v| opts[:count] = v }
  o.on("--redis URL") { |v| opts[:redis] = v }
  o.on("--namespace P", "prefix of every store namespace/key prefix") { |v| opts[:namespace] = v }
  o.on("--out FILE") { |v| opts[:out] = v }
  o.on("--kinds LIST", "comma-separated store kinds (default: all)") { |v| opts[:kinds] = v.split(",").map(&:to_sym) }
end.parse!
abort "gen_stores.rb: --redis URL is required" unless opts[:redis]

$LOAD_PATH.unshift(ENV["REDIS_SESSION_STORE_LIB"]) if ENV["REDIS_SESSION_STORE_LIB"] && !ENV["REDIS_SESSION_STORE_LIB"].empty?
HAVE_REDIS_SESSION_STORE =
  begin
    require "redis-session-store"
    true
  rescue LoadError
    warn "redis-session-store not found (set REDIS_SESSION_STORE_LIB): skipping its cases"
    false
  end

SECRET_KEY_BASE = SecureRandom.hex(64)
RNG = Random.new(opts[:seed])
NS = opts[:namespace]
URL = URI.parse(opts[:redis])
DB = URL.path.to_s.delete_prefix("/").to_i
Time.zone = "UTC"
PointStruct = Struct.new(:x, :y)

User = Struct.new(:id, :encrypted_password) do
  def to_key = [id]
  def authenticatable_salt = encrypted_password[0, 29]
end
Warden::Manager.serialize_into_session { |record| [record.to_key, record.authenticatable_salt] }

# ------------------------------------------------------------ ported coders

# Rails 7.0's cache format (activesupport 7.0 cache.rb, Coders::Loader and
# Coders::Rails70Coder, with Entry#pack / Entry.unpack), adapted to 6.1's
# Entry. A 7.0 store with compress: true (the default) calls
# dump_compressed(entry, 1.kilobyte); 6.1's store calls dump, so dump does
# that.
module Rails70CoderPort
  MARK_61 = "\x04\b".b.freeze
  MARK_70_UNCOMPRESSED = "\x00".b.freeze
  MARK_70_COMPRESSED = "\x01".b.freeze
  THRESHOLD = 1.kilobyte

  module_function

  def pack(entry)
    members = [entry.value, entry.expires_at, entry.version]
    members.pop while !members.empty? && members.last.nil?
    members
  end

  def dump(entry)
    payload = Marshal.dump(pack(entry))
    if payload.bytesize >= THRESHOLD
      compressed_payload = Zlib::Deflate.deflate(payload)
      return MARK_70_COMPRESSED + compressed_payload if compressed_payload.bytesize < payload.bytesize
    end
    MARK_70_UNCOMPRESSED + payload
  end

  def load(payload)
    if payload.start_with?(MARK_70_UNCOMPRESSED)
      members = Marshal.load(payload.byteslice(1..-1))
    elsif payload.start_with?(MARK_70_COMPRESSED)
      members = Marshal.load(Zlib::Inflate.inflate(payload.byteslice(1..-1)))
    elsif payload.start_with?(MARK_61)
      return Marshal.load(payload)
    else
      raise "invalid 7.0 cache prefix"
    end
    value, expires_at, version = members
    entry = ActiveSupport::Cache::Entry.new(value, version: version, compress: false)
    entry.expires_at = expires_at
    entry
  end
end

# Rails 7.1's cache format (activesupport 7.1 cache/coder.rb, Coder, with
# serializer :marshal_7_1 and compressor Zlib), adapted to 6.1's Entry. A
# 7.1 store with compress: true calls dump_compressed(entry, 1.kilobyte).
module Rails71CoderPort
  SIGNATURE = "\x00\x11".b.freeze
  OBJECT_DUMP_TYPE = 0x01
  STRING_ENCODINGS = { 0x02 => Encoding::UTF_8, 0x03 => Encoding::BINARY, 0x04 => Encoding::US_ASCII }.freeze
  COMPRESSED_FLAG = 0x80
  PACKED_TEMPLATE = "CEl<"
  PACKED_TYPE_TEMPLATE = "@#{SIGNATURE.bytesize}C"
  PACKED_EXPIRES_AT_TEMPLATE = "@#{[0].pack(PACKED_TYPE_TEMPLATE).bytesize}E"
  PACKED_VERSION_LENGTH_TEMPLATE = "@#{[0].pack(PACKED_EXPIRES_AT_TEMPLATE).bytesize}l<"
  PACKED_VERSION_INDEX = [0].pack(PACKED_VERSION_LENGTH_TEMPLATE).bytesize
  MARSHAL_SIGNATURE = "\x04\x08".b.freeze
  THRESHOLD = 1.kilobyte

  module_function

  def dump(entry)
    if (type = type_for_string(entry.value))
      payload = entry.value.b
    else
      type = OBJECT_DUMP_TYPE
      payload = Marshal.dump(entry.value)
    end
    if (compressed = try_compress(payload, THRESHOLD))
      payload = compressed
      type |= COMPRESSED_FLAG
    end
    expires_at = entry.expires_at || -1.0
    version = dump_version(entry.version) if entry.version
    version_length = version&.bytesize || -1
    packed = SIGNATURE.b
    packed << [type, expires_at, version_length].pack(PACKED_TEMPLATE)
    packed << version if version
    packed << payload
  end

  def load(dumped)
    raise "not a 7.1 cache entry" unless dumped.start_with?(SIGNATURE)

    type = dumped.unpack1(PACKED_TYPE_TEMPLATE)
    expires_at = dumped.unpack1(PACKED_EXPIRES_AT_TEMPLATE)
    version_length = dumped.unpack1(PACKED_VERSION_LENGTH_TEMPLATE)
    expires_at = nil if expires_at.negative?
    version = dumped.byteslice(PACKED_VERSION_INDEX, version_length) if version_length >= 0
    payload = dumped.byteslice((PACKED_VERSION_INDEX + [version_length, 0].max)..)
    payload = Zlib.inflate(payload) if type & COMPRESSED_FLAG > 0
    value = if (enc = STRING_ENCODINGS[type & ~COMPRESSED_FLAG])
              payload.force_encoding(enc)
            else
              Marshal.load(payload)
            end
    entry = ActiveSupport::Cache::Entry.new(value, version: version, compress: false)
    entry.expires_at = expires_at
    entry
  end

  def type_for_string(value)
    STRING_ENCODINGS.key(value.encoding) if value.instance_of?(String)
  end

  def try_compress(string, threshold)
    return unless string.bytesize >= threshold

    compressed = Zlib.deflate(string)
    compressed if compressed.bytesize < string.bytesize
  end

  def dump_version(version)
    if version.encoding != Encoding::UTF_8 || version.start_with?(MARSHAL_SIGNATURE)
      Marshal.dump(version)
    else
      version.b
    end
  end
end

# ------------------------------------------------------------ random contents

def pick(list) = list[RNG.rand(list.size)]

def rand_id
  case RNG.rand(20)
  when 0 then SecureRandom.uuid                         # UUID primary keys
  when 1 then 2**63 - 1 - RNG.rand(1000)                # int64 edge
  when 2 then 2**64 + RNG.rand(1000)                    # beyond int64
  else RNG.rand(1..2**31)
  end
end

def rand_string(json)
  choices = ["plain", "utf8", "empty", "long"]
  choices += ["binary", "latin1", "safe_buffer", "ascii"] unless json
  case pick(choices)
  when "plain" then "value-#{RNG.rand(10_000)}"
  when "utf8" then pick(["héllo wörld", "日本語のテキスト", "emoji 🎉✓", "quote \" and \\ and \n"])
  when "empty" then ""
  when "long" then "x" * RNG.rand(100..400)
  when "binary" then RNG.bytes(RNG.rand(1..16)).b
  when "latin1" then "caf\xE9".dup.force_encoding(Encoding::ISO_8859_1)
  when "safe_buffer" then "<b>#{RNG.rand(100)}</b>".html_safe
  when "ascii" then "ascii".encode(Encoding::US_ASCII)
  end
end

def rand_scalar(json)
  choices = %w[int string float true false nil bigint]
  choices += %w[symbol time time_utc twz date bigdecimal rational set struct nonfinite negzero hugeint] unless json
  case pick(choices)
  when "int" then pick([0, 1, -1, 122, 123, -123, 255, 256, 2**30 - 1, -(2**30), 2**30, RNG.rand(-10**9..10**9)])
  when "bigint" then pick([2**31, -(2**31), 2**62, 2**63 - 1, -(2**63), 1_795_629_745])
  when "hugeint" then pick([2**64, -(2**70), 10**30])
  when "string" then rand_string(json)
  when "float" then pick([0.5, -2.25, 1.0, 3.14159, 1.0e+100, 1.0e-7, 123456.789, RNG.rand.round(6)])
  when "nonfinite" then pick([Float::INFINITY, -Float::INFINITY, Float::NAN])
  when "negzero" then -0.0
  when "true" then true
  when "false" then false
  when "nil" then nil
  when "symbol" then pick(%i[admin editor viewer ok])
  when "time" then Time.at(RNG.rand(0..2_000_000_000), RNG.rand(0..999_999_999), :nsec).localtime(pick(["+05:30", "-08:00", "+00:00"]))
  when "time_utc" then Time.at(RNG.rand(-100_000..2_000_000_000), RNG.rand(0..999_999), :usec).utc
  when "twz" then Time.at(RNG.rand(0..2_000_000_000)).in_time_zone(pick(["UTC", "America/New_York", "Europe/Berlin"]))
  when "date" then Date.new(RNG.rand(1990..2030), RNG.rand(1..12), RNG.rand(1..28))
  when "bigdecimal" then BigDecimal(pick(["123.456", "0.1", "-7", "1e-20"]))
  when "rational" then Rational(RNG.rand(1..9), RNG.rand(10..20))
  when "set" then Set.new([1, 2, RNG.rand(3..99)])
  when "struct" then PointStruct.new(RNG.rand(100), RNG.rand(100))
  end
end

# Hash keys whose texts never collide: "k<i>", :s<i> and 1000+i.
def rand_key(i, json)
  return "k#{i}" if json

  pick(["k#{i}", :"s#{i}", 1000 + i])
end

def rand_value(json, depth = 0)
  r = RNG.rand(10)
  if depth < 3 && r < 2
    Array.new(RNG.rand(0..4)) { rand_value(json, depth + 1) }
  elsif depth < 3 && r < 4
    h = {}
    RNG.rand(0..4).times { |i| h[rand_key(i, json)] = rand_value(json, depth + 1) }
    h = h.with_indifferent_access if !json && RNG.rand(4).zero?
    h
  elsif !json && r == 4
    shared = rand_string(false)
    [shared, shared, { "again" => shared }] # object links ("@")
  else
    rand_scalar(json)
  end
end

# ------------------------------------------------------------ stores

def rails_env
  kg = ActiveSupport::CachingKeyGenerator.new(ActiveSupport::KeyGenerator.new(SECRET_KEY_BASE, iterations: 1000))
  {
    "action_dispatch.key_generator" => kg,
    "action_dispatch.secret_key_base" => SECRET_KEY_BASE,
    "action_dispatch.signed_cookie_salt" => "signed cookie",
    "action_dispatch.encrypted_cookie_salt" => "encrypted cookie",
    "action_dispatch.encrypted_signed_cookie_salt" => "signed encrypted cookie",
    "action_dispatch.authenticated_encrypted_cookie_salt" => "authenticated encrypted cookie",
    "action_dispatch.use_authenticated_cookie_encryption" => true,
    "action_dispatch.use_cookies_with_metadata" => true,
    "action_dispatch.cookies_serializer" => :json,
    "action_dispatch.cookies_rotations" => ActiveSupport::Messages::RotationConfiguration.new,
    "HTTP_HOST" => "example.com",
  }
end

def redis_url = "redis://#{URL.host}:#{URL.port}/#{DB}"

# Each kind returns: store name, format, note, builder, and the key prefix
# that the store's documented configuration gives.
def store_config(kind, cookie)
  expire = pick([900, 1800, 5400, 86_400])
  case kind
  when :actionpack_marshal
    ns = NS + pick(["session", "rack:session", "myapp:sessions"])
    ["redis-actionpack", "marshal", "servers: [\"redis://host/#{DB}/#{ns}\"], expire_after: #{expire}",
     ->(app) { ActionDispatch::Session::RedisStore.new(app, servers: ["#{redis_url}/#{ns}"], key: cookie, expire_after: expire) },
     "#{ns}:"]
  when :actionpack_json
    ns = NS + pick(["session", "json:session"])
    ["redis-actionpack", "json", "servers: [{namespace: #{ns.inspect}, serializer: JSON}], expire_after: #{expire}",
     lambda { |app|
       ActionDispatch::Session::RedisStore.new(app, key: cookie, expire_after: expire,
                                                    servers: [{ host: URL.host, port: URL.port, db: DB, namespace: ns, serializer: JSON }])
     },
     "#{ns}:"]
  when :cache61, :cache70, :cache71
    coder, format = { cache61: [Marshal, "cache-6.1"], cache70: [Rails70CoderPort, "cache-7.0"], cache71: [Rails71CoderPort, "cache-7.1"] }[kind]
    ns = RNG.rand(5).zero? ? nil : NS + pick(["acme", "myapp:cache"]) # nil: keys "_session_id:..."
    by_cache = RNG.rand(3).zero?
    note = "CacheStore(#{by_cache ? "expires_in from the cache" : "expire_after: #{expire}"}) on RedisCacheStore(namespace: #{ns.inspect}), #{format}" \
           "#{kind == :cache61 ? "" : " (coder ported from Rails #{format.delete_prefix("cache-")})"}"
    build = lambda do |app|
      cache = ActiveSupport::Cache::RedisCacheStore.new(url: redis_url, namespace: ns, coder: coder, expires_in: by_cache ? expire : nil)
      opts = { key: cookie, cache: cache }
      opts[:expire_after] = expire unless by_cache
      ActionDispatch::Session::CacheStore.new(app, **opts)
    end
    ["ActionDispatch::Session::CacheStore+RedisCacheStore", format, note, build, ns ? "#{ns}:_session_id:" : "_session_id:"]
  when :rss_marshal, :rss_json, :rss_hybrid
    serializer = kind.to_s.delete_prefix("rss_").to_sym
    prefix = RNG.rand(5).zero? ? "" : NS + pick(["acme:session:", "myapp:"]) # "": the default, a bare "2::..."
    format = serializer == :marshal ? "marshal" : "json" # :hybrid writes JSON
    ["redis-session-store", format, "serializer: #{serializer.inspect}, redis: { key_prefix: #{prefix.inspect}, expire_after: #{expire} }",
     ->(app) { RedisSessionStore.new(app, key: cookie, serializer: serializer, redis: { url: redis_url, key_prefix: prefix, expire_after: expire }) },
     prefix]
  end
end

# One request through the stack. readonly: the app only reads the session
# and tells the store not to save it back (options[:skip]), so what Redis
# holds stays exactly what the earlier requests wrote.
def request(build, cookie_name, cookie: nil, readonly: false, &block)
  seen = nil
  app = lambda do |env|
    req = ActionDispatch::Request.new(env)
    block&.call(req, env["warden"])
    req.commit_flash
    seen = env["rack.session"].to_hash
    req.session.options[:skip] = true if readonly
    [200, { "Content-Type" => "text/plain" }, ["ok"]]
  end
  warden = Warden::Manager.new(app) { |m| m.default_scope = :user }
  stack = ActionDispatch::Cookies.new(build.call(warden))
  env = rails_env
  env["HTTP_COOKIE"] = "#{cookie_name}=#{cookie}" if cookie
  res = Rack::MockRequest.new(stack).get("/", env)
  set = Array(res.headers["Set-Cookie"]).join("\n")[/(?:\A|\n)#{Regexp.escape(cookie_name)}=([^;\n]*)/, 1]
  [set, seen]
end

# What the first request puts in the session, and the expected reader's
# Devise scope.
def fill_session(json)
  scope = RNG.rand(6).zero? ? :admin : :user
  who = pick([:devise, :devise, :devise, :user_id, :nobody])
  uid = rand_id
  extras = Array.new(RNG.rand(0..5)) { |i| ["extra_#{i}", rand_value(json)] }
  big = RNG.rand(4).zero? ? (1..RNG.rand(60..200)).map { |i| "product-#{i}" } : nil
  flash = RNG.rand(3).zero? ? pick(["Signed in successfully.", "Profile saved.", "Ünïcödé notice"]) : nil
  fill = lambda do |req, warden|
    case who
    when :devise
      salt = "$2a$10$" + Array.new(22) { pick([*"a".."z", *"A".."Z", *"0".."9", ".", "/"]) }.join
      warden.set_user(User.new(uid, salt + "x" * 31), scope: scope, event: :authentication)
      warden.session(scope)["last_request_at"] = Time.now.utc.to_i if RNG.rand(2).zero?
    when :user_id
      req.session[:user_id] = uid
    end
    req.session[:_csrf_token] = SecureRandom.base64(32)
    extras.each { |k, v| req.session[k] = v }
    req.session[:recently_viewed] = big if big
    req.flash[:notice] = flash if flash
  end
  [fill, scope]
end

# The id Go must find: Devise's key if present (and then only it), else
# user_id; an Integer (within int64 for Marshal, whose mapping writes
# larger ones as {"__integer"}) or a non-empty String.
def expected_user(session, scope, json)
  key = "warden.user.#{scope}.key"
  v = if session.key?(key)
        wk = session[key]
        wk.is_a?(Array) && wk[0].is_a?(Array) && !wk[0].empty? ? [wk[0][0], key] : [nil, key]
      elsif session.key?("user_id")
        [session["user_id"], "user_id"]
      else
        [nil, nil]
      end
  id, src = v
  ok = case id
       when Integer then json || RubyJSON::INT64.cover?(id)
       when String then !id.empty?
       else false
       end
  ok ? [id, src] : [nil, src]
end

def decode(format, bytes)
  case format
  when "marshal" then Marshal.load(bytes)
  when "json" then JSON.parse(bytes)
  when "cache-6.1" then Marshal.load(bytes).value
  when "cache-7.0" then Rails70CoderPort.load(bytes).value
  when "cache-7.1" then Rails71CoderPort.load(bytes).value
  end
end

kinds = %i[actionpack_marshal actionpack_json cache61 cache70 cache71]
kinds += %i[rss_marshal rss_json rss_hybrid] if HAVE_REDIS_SESSION_STORE
if opts[:kinds]
  unknown = opts[:kinds] - kinds
  abort "gen_stores.rb: unknown or unavailable kinds #{unknown.inspect}" unless unknown.empty?
  kinds = opts[:kinds]
end
redis = Redis.new(url: redis_url)
out = opts[:out] ? File.open(opts[:out], "w") : $stdout
stats = Hash.new(0)
written = [] # session ids, to clean up if the run fails
begin
  opts[:count].times do |n|
    kind = kinds[n % kinds.size]
    cookie_name = pick(["_acme_session", "_myapp_session", "_session_id"])
    store, format, note, build, prefix = store_config(kind, cookie_name)
    json = format == "json"
    fill, scope = fill_session(json)
    cookie, = request(build, cookie_name, &fill)
    raise "#{kind}: no session cookie" unless cookie

    if RNG.rand(4).zero? # a second request changes the session and saves it again
      again, = request(build, cookie_name, cookie: cookie) { |req, _w| req.session[:last_page] = "/orders/#{RNG.rand(100)}" }
      cookie = again if again
    end
    public_id = CGI.unescape(cookie)
    written << public_id
    raise "#{kind}: session id #{public_id.inspect} is not 32 hex digits" unless public_id.match?(/\A\h{32}\z/)

    private_id = "2::#{Digest::SHA256.hexdigest(public_id)}"
    key = prefix + private_id
    found = redis.keys("*#{private_id}")
    raise "#{kind}: expected the key #{key.inspect}, Redis has #{found.inspect}" unless found == [key]

    key_uses = "private_id"
    if RNG.rand(5).zero?
      redis.rename(key, prefix + public_id) # what stores wrote before CVE-2019-16782
      key = prefix + public_id
      key_uses = "public_id"
    end
    bytes = redis.get(key).b
    ttl = redis.ttl(key)
    session = decode(format, bytes.dup) # JSON.parse re-encodes a binary String in place
    _, seen = request(build, cookie_name, cookie: cookie, readonly: true)
    unless redis.get(key).b == bytes && redis.keys("*#{private_id}").size == (key_uses == "private_id" ? 1 : 0)
      raise "#{kind}: the read-back request wrote to Redis"
    end
    unless RubyJSON.map(seen.except("session_id")) == RubyJSON.map(session).except("session_id")
      raise "#{kind}: the store read back #{seen.inspect}, Redis holds #{session.inspect}"
    end

    uid, uid_src = expected_user(session, scope.to_s, json)
    line = {
      "name" => "#{n}_#{kind}#{key_uses == "public_id" ? "_legacy_key" : ""}",
      "store" => store, "format" => format, "note" => note,
      "cookie_name" => cookie_name, "cookie_value" => cookie, "public_session_id" => public_id,
      "key_prefix" => prefix, "key_uses" => key_uses, "redis_key" => key,
      "value_hex" => bytes.unpack1("H*"), "ttl_seconds" => ttl.negative? ? nil : ttl,
      "devise_scope" => scope.to_s,
      "expect_session" => json ? session : RubyJSON.map(session),
      "expect" => uid.nil? ? "reject" : "ok",
      "user_id" => uid, "user_id_source" => uid_src,
    }
    out.puts JSON.generate(line)
    stats[kind] += 1
  end
rescue Exception # rubocop:disable Lint/RescueException
  written.each do |id|
    redis.keys("*#{id}").each { |k| redis.del(k) }
    redis.keys("*#{Digest::SHA256.hexdigest(id)}").each { |k| redis.del(k) }
  end
  raise
end
out.close if opts[:out]
warn "gen_stores.rb: seed #{opts[:seed]}, #{opts[:count]} sessions: #{stats.map { |k, v| "#{k}=#{v}" }.join(", ")}" \
     "#{HAVE_REDIS_SESSION_STORE ? "" : " (redis-session-store not loaded: skipped)"}"
