{#-
    A uint256 kept by extraction as exact base-10 text (`amount`, `price`, `fee`, ...) as an exact
    decimal(38, 0) (see wei_type), the one place that conversion is written.

    Above 38 digits (values of 10^38 and more) the result is NULL, never a rounded or wrapped number:
    decimal(38, 0) cannot hold them, and a silent approximation would break "right to the wei". Such
    values only come from tokens with absurd supplies or malicious events; the raw text and the DOUBLE
    beside it keep them, and the `uint256_fits_numeric` tests in the staging YAML count them (as a
    warning). Token ids are identifiers, not quantities: they stay text and are never converted.

    Leading zeros never occur (extraction writes canonical base-10 text), so the digit count is the
    text's length.
-#}
{% macro uint256_to_numeric(column) -%}
    case
        when {{ dbt.length(column) }} <= 38 then cast({{ column }} as {{ wei_type() }})
    end
{%- endmacro %}
