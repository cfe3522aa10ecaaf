// "Use my current location": fills the latitude and longitude fields from the browser's position.
// Without JavaScript, or without geolocation, the button never appears and the fields are typed.
export function initLocationButtons(root) {
  for (const container of root.querySelectorAll("[data-module='app-location']")) {
    if (!("geolocation" in navigator)) continue;
    const latitude = container.querySelector("input[name='latitude']");
    const longitude = container.querySelector("input[name='longitude']");
    const status = container.querySelector(".app-location-status");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "govuk-button govuk-button--secondary app-location-button";
    button.textContent = "Use my current location";
    button.addEventListener("click", () => {
      status.textContent = "Finding your location…";
      navigator.geolocation.getCurrentPosition(
        (position) => {
          latitude.value = position.coords.latitude.toFixed(6);
          longitude.value = position.coords.longitude.toFixed(6);
          status.textContent = "Your location has been added. Check the street name and area as well.";
        },
        () => {
          status.textContent = "We could not get your location. Enter the latitude and longitude, or leave them empty.";
        },
        { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 },
      );
    });
    const coordinates = container.querySelector(".app-coordinates");
    coordinates.parentNode.insertBefore(button, coordinates);
  }
}
