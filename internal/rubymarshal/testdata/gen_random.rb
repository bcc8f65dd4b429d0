# frozen_string_literal: false
#
# gen_random.rb: random Ruby values for TestDifferentialRuby.
#
#   ruby gen_random.rb SEED COUNT
#
# For each of COUNT values (reproducible from SEED) it prints one JSON line:
#   {"i": n, "hex": "<Marshal.dump bytes>", "expect": <JSON mapping>, "inspect": "..."}
# The expected JSON is computed by Ruby, from the value Marshal.load gives
# back, with the mapping of shared/testdata/rails/README.md §1. The mapping
# module below is adapted from shared/testdata/rails/ruby_json.rb; unlike
# that file it does not need ActiveSupport. When ActiveSupport is installed
# (Debian: ruby-activesupport) the values also include
# HashWithIndifferentAccess, TimeWithZone and SafeBuffer.
#
# Values: nil/true/false; integers at the long-encoding and Fixnum/Bignum
# boundaries, near int64's limits, and huge; floats including -0.0, NaN,
# ±Infinity, subnormals and random bit patterns; strings in UTF-8,
# US-ASCII, ASCII-8BIT, ISO-8859-1, Windows-1252, Shift_JIS, EUC-JP and
# UTF-16LE, some with invalid bytes; symbols (repeated, so symbol links),
# UTF-8 and ISO-8859-1 symbols; arrays; hashes with String, Symbol and
# Integer keys, some with a default; Times in UTC, local time, fixed offsets,
# with nanoseconds and sub-nanosecond rationals, before 1900 and after
# 67435; Structs; BigDecimal; Set; Rational, Complex, Date, DateTime;
# Regexps; class and module references; plain objects; user subclasses of
# String, Array and Hash ("C"); objects extended with a module ("e");
# strings with extra instance variables; and shared references (object
# links), none cyclic.

ENV["TZ"] = "Europe/Berlin" # local times get CET/CEST

require "json"
require "set"
require "bigdecimal"
require "date"

HAVE_AS = begin
  require "active_support"
  require "active_support/core_ext"
  Time.zone = "UTC"
  true
rescue LoadError
  false
end

# The mapping of README §1, applied to a loaded value.
module Mapping
  INT64 = (-(2**63))..(2**63 - 1)
  MODULE_NAME = Module.instance_method(:name)
  PLAIN_ENCODINGS = [Encoding::UTF_8, Encoding::US_ASCII, Encoding::BINARY].freeze

  module_function

  def map(v, depth = 0)
    raise ArgumentError, "nesting too deep (cycle?)" if depth > 64

    d = depth + 1
    k = v.class
    if v.nil? || v == true || v == false
      v
    elsif k <= Integer
      INT64.cover?(v) ? v : { "__integer" => v.to_s }
    elsif k <= Float
      if v.nan? then { "__float" => "nan" }
      elsif v.infinite? then { "__float" => v.positive? ? "inf" : "-inf" }
      else v
      end
    elsif k <= Symbol
      str(v.to_s)
    elsif k <= String
      str(v)
    elsif k <= Array
      v.map { |e| map(e, d) }
    elsif k <= Hash
      v.each_with_object({}) do |(key, val), h|
        jk = key_of(key)
        raise ArgumentError, "duplicate key #{jk.inspect} after mapping" if h.key?(jk)
        h[jk] = map(val, d)
      end
    elsif k == Time
      time(v)
    elsif k <= Struct
      v.each_pair.each_with_object({ "__class" => class_name(k) }) { |(m, val), h| h[m.to_s] = map(val, d) }
    elsif k <= Regexp
      { "__class" => "Regexp", "source" => str(v.source), "options" => v.options & 0xff }
    elsif k == Class
      { "__class" => "Class", "name" => class_name(v) }
    elsif k == Module
      { "__class" => "Module", "name" => class_name(v) }
    elsif v.respond_to?(:marshal_dump, true)
      { "__class" => class_name(k), "marshal_dump" => map(v.send(:marshal_dump), d) }
    elsif v.respond_to?(:_dump, true)
      { "__class" => class_name(k), "_dump" => str(v.send(:_dump, -1)) }
    else
      v.instance_variables.each_with_object({ "__class" => class_name(k) }) do |iv, h|
        h[iv.to_s] = map(v.instance_variable_get(iv), d)
      end
    end
  end

  def class_name(k)
    MODULE_NAME.bind_call(k)
  end

  def str(s)
    if PLAIN_ENCODINGS.include?(s.encoding) && (u = s.dup.force_encoding(Encoding::UTF_8)).valid_encoding?
      u
    else
      { "__bytes" => s.unpack1("H*"), "encoding" => s.encoding.name }
    end
  end

  def key_of(key)
    case key
    when String, Symbol
      s = str(key.to_s)
      raise ArgumentError, "hash key #{key.inspect} is not plain text" unless s.is_a?(String)
      s
    when Integer
      key.to_s
    else
      raise ArgumentError, "hash key of class #{key.class} is outside the mapping"
    end
  end

  def time(t)
    {
      "__class" => "Time",
      "utc" => t.getutc.strftime("%Y-%m-%dT%H:%M:%S.%NZ"),
      "utc_offset" => t.utc? ? 0 : t.utc_offset,
      "zone" => t.zone,
    }
  end
end

# Classes the values use. Marshal.load needs them defined.
PointStruct = Struct.new(:x, :y)
KwStruct = Struct.new(:a, :b, keyword_init: true)
OneStruct = Struct.new(:only)
class Account
  def initialize(ivars)
    ivars.each { |k, v| instance_variable_set(k, v) }
  end
end
class Empty; end
class MyString < String; end
class MyArray < Array; end
class MyHash < Hash; end
module Tagged; end
module Flagged; end

class Generator
  INT_EDGES = [
    0, 1, -1, 4, 5, -4, -5, 122, 123, -123, -124, 255, 256, -256, -257, 65_535, 65_536, -65_536, -65_537,
    2**24 - 1, 2**24, -(2**24), -(2**24) - 1, 2**30 - 1, 2**30, -(2**30), -(2**30) - 1, 2**31 - 1, 2**31,
    -(2**31), 2**32 - 1, 2**32, -(2**32), 1_700_000_000, 2**62, 2**63 - 1, 2**63, -(2**63), -(2**63) - 1,
    2**64 - 1, 2**64, -(2**64),
  ].freeze
  FLOATS = [
    0.0, -0.0, 1.0, -1.0, 0.1, 0.5, 1.5, 2.0, 100.0, 1.0 / 3, 1e15, 1e16, 1.5e16, 9_007_199_254_740_993.0,
    0.0001, 0.00012, 1e-5, 1e100, -1e-100, 123_456_789.123456789, Float::MAX, -Float::MAX, Float::MIN,
    5.0e-324, Float::EPSILON, Float::INFINITY, -Float::INFINITY, Float::NAN, 1_700_000_000.25,
  ].freeze
  ENCODINGS = %w[ISO-8859-1 Windows-1252 Shift_JIS EUC-JP UTF-16LE].freeze
  SYMBOLS = %i[a b c id user role admin scope flash notice user_id created_at].freeze
  REGEXPS = [/ab+c/ix, /\d+/, /na\u00efve/, /x/n, //, /\//, /(?<word>\w+)\s*$/m, /a.b/mix].freeze
  REFS = [String, Integer, Hash, Struct, Comparable, Kernel, Enumerable, Math].freeze
  ZONES = %w[UTC America/New_York Europe/Berlin Asia/Kolkata Australia/Adelaide Pacific/Chatham].freeze
  OFFSETS = %w[+00:00 +01:00 -08:00 +05:30 +09:00 -03:30 +14:00 -12:00 UTC].freeze

  def initialize(seed)
    @rng = Random.new(seed)
    @shared = []
  end

  def rand(x = nil) = x.nil? ? @rng.rand : @rng.rand(x)
  def pick(a) = a[rand(a.size)]
  def chance(p) = rand < p

  def value(depth = 3)
    if !@shared.empty? && chance(0.08)
      pick(@shared)
    elsif depth <= 0 || chance(0.45)
      remember(scalar)
    else
      remember(container(depth - 1))
    end
  end

  # Built values are reused later for object links; a container is only
  # offered once it is complete, so no value contains itself.
  def remember(v)
    @shared << v unless v.nil? || v == true || v == false || v.is_a?(Symbol) || (v.is_a?(Integer) && v.bit_length < 31)
    @shared.shift if @shared.size > 40
    v
  end

  def scalar
    case rand(16)
    when 0 then pick([nil, true, false])
    when 1, 2 then int
    when 3, 4 then float
    when 5, 6, 7 then string
    when 8 then symbol
    when 9, 10 then time
    when 11 then bigdecimal
    when 12 then pick([Rational(rand(-1000..1000), rand(1..1000)), Complex(rand(-9..9), rand(-9..9)), date])
    when 13 then REGEXPS.sample(random: @rng)
    when 14 then pick(REFS)
    else
      HAVE_AS ? as_scalar : string
    end
  end

  def int
    case rand(4)
    when 0 then pick(INT_EDGES) + rand(-2..2)
    when 1 then rand(-(2**rand(70))..2**rand(70))
    when 2 then (rand(2).zero? ? 1 : -1) * (2**rand(64..3000) + rand(2**40))
    else rand(-1000..1000)
    end
  end

  def float
    case rand(3)
    when 0 then pick(FLOATS)
    when 1 then [rand(2**64)].pack("Q<").unpack1("E")
    else (rand - 0.5) * 10.0**rand(-30..30)
    end
  end

  def utf8_text(n)
    Array.new(n) do
      case rand(6)
      when 0 then rand(0x20..0x7e)
      when 1 then rand(0xa0..0x2ff)
      when 2 then rand(0x370..0x3ff)
      when 3 then rand(0x4e00..0x4fff)
      when 4 then rand(0x1f600..0x1f64f)
      else pick([0, 10, 9, 0x22, 0x5c, 0x2028, 0x7f])
      end
    end.pack("U*")
  end

  def ascii_text(n) = Array.new(n) { rand(0x20..0x7e) }.pack("C*")

  def string
    n = chance(0.05) ? rand(200..2000) : rand(0..12)
    case rand(11)
    when 0, 1, 2 then utf8_text(n)
    when 3 then ascii_text(n).encode("US-ASCII")
    when 4 then @rng.bytes(n).b
    when 5 then ascii_text(n).b
    when 6 then Array.new(n) { rand(0x20..0xff) }.pack("U*").encode("ISO-8859-1")
    when 7
      enc = pick(ENCODINGS)
      utf8_text(n).encode(enc, invalid: :replace, undef: :replace, replace: "?")
    when 8 then (ascii_text(n) + "\xff\xfe").force_encoding(pick(%w[UTF-8 US-ASCII]))
    when 9
      s = MyString.new(utf8_text(n))
      s.extend(Tagged) if chance(0.3)
      s
    else
      s = utf8_text(n)
      s.instance_variable_set(:@meta, int) # an ivar the mapping ignores
      s
    end
  end

  def symbol
    case rand(8)
    when 0 then utf8_text(rand(1..6)).delete("\u0000").then { |s| s.empty? ? :x : s.to_sym }
    when 1 then "caf\xe9".force_encoding("ISO-8859-1").to_sym
    else pick(SYMBOLS)
    end
  end

  def key
    case rand(5)
    when 0 then pick(SYMBOLS)
    when 1 then int
    when 2 then utf8_text(rand(0..8))
    else ascii_text(rand(1..10))
    end
  end

  def time
    sec = rand(-(2**31)..2**33)
    t = case rand(9)
        when 0 then Time.at(sec, rand(10**9), :nsec).utc
        when 1 then Time.at(sec, rand(10**6), :usec)
        when 2 then Time.at(sec, in: pick(OFFSETS))
        when 3 then Time.at(Rational(sec * 10**9 + rand(10**9), 10**9) + Rational(rand(1..2), 3 * 10**9)).utc
        when 4 then Time.utc(rand(1700..1899), rand(1..12), rand(1..28), rand(24), rand(60), rand(60), rand(10**6))
        when 5 then Time.utc(rand(67_436..200_000), rand(1..12), rand(1..28), rand(24), rand(60), rand(60))
        when 6 then Time.new(rand(1901..2100), rand(1..12), rand(1..28), rand(24), rand(60), rand(60), pick(OFFSETS))
        when 7 then Time.at(sec).getlocal(pick(OFFSETS))
        else Time.at(sec, rand(10**9), :nsec)
        end
    t.instance_variable_set(:@note, "ignored") if chance(0.1)
    t
  end

  def date
    if chance(0.5)
      Date.new(rand(1..3000), rand(1..12), rand(1..28))
    else
      DateTime.new(rand(1900..2100), rand(1..12), rand(1..28), rand(24), rand(60), rand(60), pick(%w[+00:00 +01:00 -05:00]))
    end
  end

  def bigdecimal
    case rand(4)
    when 0 then BigDecimal(pick(%w[NaN Infinity -Infinity 0 -0 1 0.5 -1.5e-10 1e400]))
    when 1 then BigDecimal(rand(-10**30..10**30).to_s + "." + rand(10**20).to_s)
    else BigDecimal(format("%.6f", (rand - 0.5) * 10**rand(0..12)))
    end
  end

  def as_scalar
    case rand(3)
    when 0 then ActiveSupport::TimeZone[pick(ZONES)].at(rand(0..2**32), rand(10**6))
    when 1 then "<b>#{ascii_text(rand(0..8))}</b>".html_safe
    else Time.zone.at(rand(0..2**32))
    end
  end

  def container(depth)
    case rand(12)
    when 0, 1, 2 then Array.new(rand(0..6)) { value(depth) }
    when 3, 4, 5 then hash(depth)
    when 6
      h = Hash.new(value(depth))
      h.merge!(hash(depth))
    when 7 then Set.new(Array.new(rand(0..5)) { key })
    when 8
      case rand(3)
      when 0 then PointStruct.new(value(depth), value(depth))
      when 1 then KwStruct.new(a: value(depth), b: value(depth))
      else OneStruct.new(value(depth))
      end
    when 9
      o = Account.new(Array.new(rand(0..4)) { [:"@#{pick(%w[id email tags x y z])}", value(depth)] }.to_h)
      o.extend(Tagged) if chance(0.2)
      o.extend(Flagged) if chance(0.2)
      chance(0.1) ? Empty.new : o
    when 10
      c = chance(0.5) ? MyArray.new(Array.new(rand(0..4)) { value(depth) }) : MyHash.new.merge!(hash(depth))
      c.extend(Tagged) if chance(0.3)
      c
    else
      HAVE_AS ? hash(depth).with_indifferent_access : hash(depth)
    end
  end

  def hash(depth)
    h = {}
    seen = {}
    rand(0..6).times do
      k = key
      t = k.is_a?(Integer) ? k.to_s : k.to_s
      next if seen[t]

      seen[t] = true
      h[k] = value(depth)
    end
    h
  end
end

seed = Integer(ARGV.fetch(0))
count = Integer(ARGV.fetch(1, "500"))
gen = Generator.new(seed)
written = 0
tries = 0
redumped = 0
while written < count
  tries += 1
  raise "too many values outside the mapping" if tries > count * 5

  v = gen.value
  # The expectation is computed from the loaded value, so the bytes must be
  # what that value dumps to: some values dump differently once reloaded
  # (a BigDecimal's _dump precision prefix, a UTC Time's empty zone), so
  # dump and load until the bytes stop changing.
  bytes = Marshal.dump(v)
  loaded = nil
  stable = 3.times.any? do
    loaded = Marshal.load(bytes)
    again = Marshal.dump(loaded)
    next true if again == bytes

    redumped += 1
    bytes = again
    false
  end
  next unless stable

  expect = begin
    Mapping.map(loaded)
  rescue ArgumentError
    next # e.g. two keys with one text after mapping: not in the mapping
  end
  line = JSON.generate({ "i" => written, "hex" => bytes.unpack1("H*"), "expect" => expect,
                         "inspect" => v.inspect[0, 300].encode("UTF-8", invalid: :replace, undef: :replace) })
  $stdout.puts line
  written += 1
end
warn "gen_random.rb: #{written} values in #{tries} tries; #{redumped} re-dumped until stable; ActiveSupport: #{HAVE_AS}"
