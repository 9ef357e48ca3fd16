{#-
    Checks on a uint256 converted from exact base-10 text by uint256_to_numeric:

    - exact_numeric_of_text: wherever the number is present it is exactly the text (a cast back to text
      gives the same digits): no rounding, no scale, no wrap-around.
    - uint256_fits_numeric: the number is present wherever the text is, i.e. no value above 38 digits was
      turned into NULL. Such values are legal on chain, so the YAML runs this one as a warning.
-#}
{% test exact_numeric_of_text(model, column_name, text_column) %}

    select
        {{ column_name }},
        {{ text_column }}
    from {{ model }}
    where
        {{ column_name }} is not null
        and {{ dbt.cast(column_name, dbt.type_string()) }} <> {{ text_column }}

{% endtest %}


{% test uint256_fits_numeric(model, column_name, text_column) %}

    select {{ text_column }}
    from {{ model }}
    where
        {{ text_column }} is not null
        and {{ column_name }} is null

{% endtest %}
