// "Use my current location": fills the latitude and longitude fields from the browser's position, and opens
// "I know the map coordinates" so the resident sees what was filled in. Without JavaScript, or without
// geolocation, the button never appears: the street and area are enough, and the coordinates can be typed.
export function initLocationButtons(root) {
  for (const container of root.querySelectorAll("[data-module='app-location']")) {
    if (!("geolocation" in navigator)) continue;
    const latitude = container.querySelector("input[name='latitude']");
    const longitude = container.querySelector("input[name='longitude']");
    const status = container.querySelector(".app-location-status");
    const details = container.querySelector(".app-coordinates-details");
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
          details.open = true;
          status.textContent = "Your location has been added. Check the street name and area as well.";
        },
        () => {
          status.textContent = "We could not get your location. The street name and area are enough for us to find the problem.";
        },
        { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 },
      );
    });
    container.insertBefore(button, status);
  }
}
