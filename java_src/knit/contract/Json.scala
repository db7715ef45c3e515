package knit.contract

/** Just enough JSON for the launch contract and the control endpoint: writing maps,
  * sequences and scalars, and parsing into `Map[String, Any]`, `Seq[Any]`, `String`,
  * `BigDecimal`, `Boolean` and `null`.
  *
  * Hand-written rather than Jackson: the knit jar compiles against the shaded
  * hadoop-client-api, whose Jackson is relocated, while the ApplicationMaster runs
  * on the cluster's unshaded classpath; a parser of our own works on both.
  */
object Json {
  def quote(text: String): String = {
    val out = new StringBuilder("\"")
    text.foreach {
      case '"' => out.append("\\\"")
      case '\\' => out.append("\\\\")
      case '\n' => out.append("\\n")
      case '\r' => out.append("\\r")
      case '\t' => out.append("\\t")
      case c if c < ' ' => out.append(f"\\u${c.toInt}%04x")
      case c => out.append(c)
    }
    out.append('"').toString
  }

  def value(v: Any): String = v match {
    case null | None => "null"
    case Some(x) => value(x)
    case s: String => quote(s)
    case b: Boolean => b.toString
    case n: Int => n.toString
    case n: Long => n.toString
    case n: Float => n.toString
    case n: Double => n.toString
    case n: BigDecimal => n.toString
    case m: Map[_, _] => m.map { case (k, x) => quote(k.toString) + ":" + value(x) }.mkString("{", ",", "}")
    case s: Iterable[_] => s.map(value).mkString("[", ",", "]")
    case other => quote(other.toString)
  }

  def obj(fields: (String, Any)*): String = value(fields.toMap)

  /** Parse one JSON document.
    *
    * @throws IllegalArgumentException on malformed input, naming the offset
    */
  def parse(text: String): Any = {
    val parser = new Parser(text)
    val result = parser.document()
    result
  }

  private final class Parser(text: String) {
    private var at = 0

    def document(): Any = {
      val v = value()
      space()
      if (at != text.length) fail("text after the JSON value")
      v
    }

    private def fail(what: String): Nothing =
      throw new IllegalArgumentException(s"malformed JSON at offset $at: $what")

    private def space(): Unit = while (at < text.length && " \t\r\n".indexOf(text(at)) >= 0) at += 1

    private def expect(c: Char): Unit = {
      space()
      if (at >= text.length || text(at) != c) fail(s"expected '$c'")
      at += 1
    }

    private def value(): Any = {
      space()
      if (at >= text.length) fail("unexpected end")
      text(at) match {
        case '{' => obj()
        case '[' => array()
        case '"' => string()
        case 't' => word("true", true)
        case 'f' => word("false", false)
        case 'n' => word("null", null)
        case c if c == '-' || c.isDigit => number()
        case c => fail(s"unexpected '$c'")
      }
    }

    private def word(w: String, v: Any): Any =
      if (text.startsWith(w, at)) { at += w.length; v } else fail(s"expected $w")

    private def number(): BigDecimal = {
      val start = at
      while (at < text.length && "+-0123456789.eE".indexOf(text(at)) >= 0) at += 1
      try BigDecimal(text.substring(start, at)) catch { case _: NumberFormatException => fail("bad number") }
    }

    private def string(): String = {
      expect('"')
      val out = new StringBuilder
      while (true) {
        if (at >= text.length) fail("unterminated string")
        val c = text(at)
        at += 1
        c match {
          case '"' => return out.toString
          case '\\' =>
            if (at >= text.length) fail("unterminated escape")
            val e = text(at)
            at += 1
            e match {
              case '"' | '\\' | '/' => out.append(e)
              case 'b' => out.append('\b')
              case 'f' => out.append('\f')
              case 'n' => out.append('\n')
              case 'r' => out.append('\r')
              case 't' => out.append('\t')
              case 'u' =>
                if (at + 4 > text.length) fail("short \\u escape")
                out.append(Integer.parseInt(text.substring(at, at + 4), 16).toChar)
                at += 4
              case other => fail(s"bad escape \\$other")
            }
          case other => out.append(other)
        }
      }
      fail("unreachable")
    }

    private def array(): Seq[Any] = {
      expect('[')
      space()
      val items = Seq.newBuilder[Any]
      if (at < text.length && text(at) == ']') { at += 1; return items.result() }
      while (true) {
        items += value()
        space()
        if (at < text.length && text(at) == ',') at += 1
        else { expect(']'); return items.result() }
      }
      fail("unreachable")
    }

    private def obj(): Map[String, Any] = {
      expect('{')
      space()
      val fields = Map.newBuilder[String, Any]
      if (at < text.length && text(at) == '}') { at += 1; return fields.result() }
      while (true) {
        space()
        val key = string()
        expect(':')
        fields += key -> value()
        space()
        if (at < text.length && text(at) == ',') at += 1
        else { expect('}'); return fields.result() }
      }
      fail("unreachable")
    }
  }
}
