package io.flashlm.chat;

import java.time.ZonedDateTime;
import java.time.format.TextStyle;
import java.util.Locale;

/**
 * {@code strftime_now(format)}, the function Hugging Face gives chat templates (Llama 3.2 writes today's date
 * with it): the local time formatted with Python's strftime directives %d %m %Y %y %H %M %S %b %B %a %A %j %p %%;
 * any other directive fails, naming it.
 */
final class StrftimeNow {
    private StrftimeNow() {
    }

    public static String strftimeNow(String format) {
        return format(ZonedDateTime.now(), format);
    }

    static String format(ZonedDateTime t, String format) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < format.length(); i++) {
            char c = format.charAt(i);
            if (c != '%' || i + 1 == format.length()) {
                out.append(c);
                continue;
            }
            char d = format.charAt(++i);
            out.append(switch (d) {
                case 'd' -> String.format("%02d", t.getDayOfMonth());
                case 'm' -> String.format("%02d", t.getMonthValue());
                case 'Y' -> String.valueOf(t.getYear());
                case 'y' -> String.format("%02d", t.getYear() % 100);
                case 'H' -> String.format("%02d", t.getHour());
                case 'M' -> String.format("%02d", t.getMinute());
                case 'S' -> String.format("%02d", t.getSecond());
                case 'j' -> String.format("%03d", t.getDayOfYear());
                case 'p' -> t.getHour() < 12 ? "AM" : "PM";
                case 'b' -> t.getMonth().getDisplayName(TextStyle.SHORT, Locale.ENGLISH);
                case 'B' -> t.getMonth().getDisplayName(TextStyle.FULL, Locale.ENGLISH);
                case 'a' -> t.getDayOfWeek().getDisplayName(TextStyle.SHORT, Locale.ENGLISH);
                case 'A' -> t.getDayOfWeek().getDisplayName(TextStyle.FULL, Locale.ENGLISH);
                case '%' -> "%";
                default -> throw new UnsupportedConstructException("strftime_now: the directive %" + d
                        + " is not supported");
            });
        }
        return out.toString();
    }
}
